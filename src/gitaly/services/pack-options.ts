// Client-supplied options for upload-pack and receive-pack. `git -c` from a
// client could otherwise run commands (uploadpack.packObjectsHook,
// core.sshCommand, ...), so only keys known to be harmless pass.
import { InvalidArgumentError } from '../errors.js';

const ALLOWED_CONFIG_KEYS = new Set([
  'uploadpack.allowfilter',
  'uploadpack.allowanysha1inwant',
  'uploadpack.allowtipsha1inwant',
  'uploadpack.allowreachablesha1inwant',
  'uploadpack.allowrefinwant',
  'uploadpack.hiderefs',
  'receive.hiderefs',
  'transfer.hiderefs',
  'receive.advertisepushoptions',
  'receive.fsckobjects',
  'transfer.fsckobjects',
  'receive.maxinputsize',
  'pack.threads',
  'pack.windowmemory',
]);

export function validateConfigOptions(options: readonly string[]): string[] {
  return options.map((option) => {
    const eq = option.indexOf('=');
    const key = (eq < 0 ? option : option.slice(0, eq)).trim().toLowerCase();
    if (eq <= 0 || /[\0\n]/.test(option)) throw new InvalidArgumentError(`invalid git config option "${option}": expected key=value`);
    if (!ALLOWED_CONFIG_KEYS.has(key)) throw new InvalidArgumentError(`git config option "${key}" is not allowed`);
    return option;
  });
}

/** GIT_PROTOCOL for the git process; only the values git itself sends. */
export function protocolEnv(gitProtocol: string): Record<string, string> {
  if (gitProtocol.length === 0) return {};
  if (!/^version=[0-2]$/.test(gitProtocol)) throw new InvalidArgumentError(`invalid git_protocol "${gitProtocol}"`);
  return { GIT_PROTOCOL: gitProtocol };
}

/** The variables hooks would see, as Gitaly passes them on. */
export function glEnv(request: { gl_id?: string; gl_repository?: string; gl_username?: string }): Record<string, string> {
  const env: Record<string, string> = {};
  if (request.gl_id) env['GL_ID'] = request.gl_id;
  if (request.gl_repository) env['GL_REPOSITORY'] = request.gl_repository;
  if (request.gl_username) env['GL_USERNAME'] = request.gl_username;
  return env;
}
