// From text (or a file) to a PraefectConfig, or one ConfigError listing every
// problem. Secrets never reach a message: TOML syntax errors are reported by
// line and column only, because smol-toml quotes the offending line.
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { configSchema } from './config-schema.js';
import { crossCheck } from './cross-checks.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { formatKeyPath, TOP_LEVEL } from './key-path.js';
import { toPraefectConfig, type PraefectConfig } from './praefect-config.js';
import { schemaMessage, schemaProblems } from './schema-problems.js';

/** Validates an already parsed document (e.g. from TOML, or built by a test or by `cluster up`). */
export function parseConfig(raw: unknown): PraefectConfig {
  const result = configSchema.safeParse(raw, { error: schemaMessage });
  const problems = [
    ...(result.success ? [] : schemaProblems(configSchema, result.error.issues)),
    ...crossCheck(raw).map((p) => ({ path: formatKeyPath(p.path), message: p.message })),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(dedupe(problems));
  return toPraefectConfig(result.data);
}

export function parseConfigToml(text: string): PraefectConfig {
  return parseConfig(parseTomlText(text));
}

export function loadConfigFile(file: string): PraefectConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ConfigError([{ path: TOP_LEVEL, message: `cannot read ${file}: ${reason}` }]);
  }
  return parseConfigToml(text);
}

function parseTomlText(text: string): unknown {
  try {
    return parseToml(text);
  } catch (error) {
    throw new ConfigError([{ path: TOP_LEVEL, message: tomlSyntaxMessage(error) }], 'invalid TOML');
  }
}

function tomlSyntaxMessage(error: unknown): string {
  if (!(error instanceof TomlError)) return 'the file is not valid TOML';
  // The first line is smol-toml's reason; the rest quotes the file.
  const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
  return `line ${error.line}, column ${error.column}: ${reason}`;
}

function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
