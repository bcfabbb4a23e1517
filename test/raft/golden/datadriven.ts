// Datadriven runner for the golden-file Raft scenarios in test/raft/testdata/.
//
// A file is a sequence of blocks:
//
//   # comment lines (kept as they are)
//   command arg key=value
//   ----
//   expected output, one or more non-blank lines
//   <blank line>
//
// Each command runs against one GoldenEnv; its output must equal the block's
// expected output byte for byte. The first difference fails the file with a
// diff naming the file and the command's line.
//
// Rewriting the expectations:
//
//   REWRITE=1 npx tap test/raft/golden.test.ts            # every file
//   REWRITE=1 GOLDEN=figure8 npx tap test/raft/golden.test.ts   # files whose name contains "figure8"
//
// regenerates every expected output in place from what the code does now
// (a command written without a "----" section gets one). Comments and
// commands are kept. `expect-*` assertions still fail the test when
// rewriting, and a file whose run hits a fatal error is not rewritten. Read
// the rewritten output before committing it: it freezes whatever the code did.

import { readFileSync, writeFileSync } from 'node:fs';
import { AssertionFailure, runCommand } from './commands.js';
import { FatalError, GoldenEnv } from './env.js';

export interface Block {
  /** Comment and blank lines before the command. */
  readonly leadIn: readonly string[];
  readonly command: string;
  /** 1-based line number of the command. */
  readonly line: number;
  /** undefined when the file has no "----" section for this command yet. */
  readonly expected: readonly string[] | undefined;
}

export interface ScriptFile {
  readonly blocks: readonly Block[];
  /** Comment and blank lines after the last command. */
  readonly trailer: readonly string[];
}

export function parseScript(text: string): ScriptFile {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const blocks: Block[] = [];
  let leadIn: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      leadIn.push(line);
      i++;
      continue;
    }
    const commandLine = i + 1;
    i++;
    let expected: string[] | undefined;
    if (lines[i] === '----') {
      i++;
      expected = [];
      while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
      if (i < lines.length) i++; // the blank line that ends the block
    }
    blocks.push({ leadIn, command: line, line: commandLine, expected });
    leadIn = [];
  }
  return { blocks, trailer: leadIn };
}

export function serializeScript(file: ScriptFile, outputs: readonly (readonly string[] | undefined)[]): string {
  const lines: string[] = [];
  // One blank line ends a block; blank lines right after it are not repeated.
  const pushLeadIn = (leadIn: readonly string[]): void => {
    let k = 0;
    if (lines.length > 0 && lines[lines.length - 1] === '') while (leadIn[k] === '') k++;
    lines.push(...leadIn.slice(k));
  };
  file.blocks.forEach((block, k) => {
    pushLeadIn(block.leadIn);
    lines.push(block.command);
    const output = outputs[k] ?? block.expected;
    if (output !== undefined) lines.push('----', ...output, '');
  });
  pushLeadIn(file.trailer);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

export interface Failure {
  /** "file:line: command: what went wrong", on one line. */
  readonly headline: string;
  /** Multi-line detail: the diff of expected and actual output, or a stack. */
  readonly detail: string | undefined;
}

export interface FileResult {
  readonly failures: Failure[];
  /** Whether the file was written (rewrite mode only). */
  readonly rewritten: boolean;
  readonly commands: number;
}

/** Output lines are never blank: a blank line ends a block. */
function normalize(out: readonly string[]): string[] {
  const lines = out.flatMap((l) => l.split('\n')).map((l) => (l.trim() === '' ? '.' : l.replace(/\s+$/, '')));
  return lines.length > 0 ? lines : ['ok'];
}

export async function runScriptFile(path: string, name: string, rewrite: boolean): Promise<FileResult> {
  const file = parseScript(readFileSync(path, 'utf8'));
  const env = new GoldenEnv();
  const outputs: (string[] | undefined)[] = [];
  const failures: Failure[] = [];
  let fatal = false;
  let commands = 0;
  for (const block of file.blocks) {
    const where = `${name}:${block.line}: ${block.command}`;
    let actual: string[];
    try {
      actual = normalize(await runCommand(env, block.command));
    } catch (error) {
      if (error instanceof AssertionFailure) {
        failures.push({ headline: `${where}: assertion failed: ${error.message}`, detail: undefined });
        actual = [`assertion failed: ${error.message}`];
      } else {
        const message = error instanceof Error ? error.message : String(error);
        const detail = error instanceof FatalError || !(error instanceof Error) ? undefined : error.stack;
        failures.push({ headline: `${where}: fatal: ${message}`, detail });
        fatal = true;
        break;
      }
    }
    commands++;
    outputs.push(actual);
    if (!rewrite) {
      const expected = block.expected;
      if (expected === undefined) {
        failures.push({ headline: `${where}: no expected output; run with REWRITE=1 to record it`, detail: undefined });
        break;
      }
      if (expected.join('\n') !== actual.join('\n')) {
        failures.push({
          headline: `${where}: output differs (run with REWRITE=1 to accept)`,
          detail: `--- expected\n+++ actual\n${diffLines(expected, actual)}`,
        });
        break;
      }
    }
  }
  let rewritten = false;
  if (rewrite && !fatal) {
    const text = serializeScript(file, outputs);
    if (text !== readFileSync(path, 'utf8')) {
      writeFileSync(path, text);
      rewritten = true;
    }
  }
  return { failures, rewritten, commands };
}

/** A line diff (longest common subsequence), each line prefixed with ' ', '-' or '+'. */
export function diffLines(expected: readonly string[], actual: readonly string[]): string {
  const n = expected.length;
  const m = actual.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`    ${expected[i]}`);
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(`  + ${actual[j]}`);
      j++;
    } else {
      out.push(`  - ${expected[i]}`);
      i++;
    }
  }
  return out.join('\n');
}
