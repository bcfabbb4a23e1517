#!/usr/bin/env node
// Fails when the relative imports under the given folders form a cycle.
// TypeScript sources import './x.js' for './x.ts' (NodeNext), which madge does not
// resolve without a bundler config, so this walks the import graph itself.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';

const roots = process.argv.slice(2);
if (roots.length === 0) {
  console.error('usage: check-cycles.mjs <folder>...');
  process.exit(2);
}

const importPattern = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function listSources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listSources(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

const graph = new Map();
for (const file of roots.filter(existsSync).flatMap(listSources)) {
  const text = readFileSync(file, 'utf8').replace(/import\s+type\s[^;]+;/g, '');
  const deps = [];
  for (const match of text.matchAll(importPattern)) {
    const target = resolveImport(file, match[1] ?? match[2]);
    if (target) deps.push(target);
  }
  graph.set(resolve(file), deps);
}

const state = new Map(); // 1 = on stack, 2 = done
const cycles = [];
function visit(node, stack) {
  state.set(node, 1);
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (!state.has(dep)) visit(dep, stack);
  }
  stack.pop();
  state.set(node, 2);
}
for (const node of graph.keys()) if (!state.has(node)) visit(node, []);

if (cycles.length > 0) {
  for (const cycle of cycles) console.error('import cycle: ' + cycle.map((f) => relative(process.cwd(), f)).join(' -> '));
  process.exit(1);
}
console.log(`no import cycles among ${graph.size} files`);
