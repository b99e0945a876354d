// FileSet: the files of one model or adapter directory, addressed by relative name, wherever they
// live (a local directory in Node, a base URL in the browser). Checkpoint and adapter loading is
// written against this interface only, so it runs unchanged in both places.

import { LoraTleError } from '@lora-tle/spec';
import type { ByteSource } from './byte-source.js';
import { openFetchByteSource, type FetchByteSourceOptions } from './fetch-byte-source.js';

export interface FileSet {
  /** The directory path or base URL, for messages. */
  readonly label: string;
  exists(name: string): Promise<boolean>;
  readText(name: string): Promise<string>;
  openBytes(name: string): Promise<ByteSource>;
}

/** Reads `name` as JSON; E_NOT_FOUND when absent, E_JSON (or `code`) when it does not parse. */
export async function readJsonFile(files: FileSet, name: string, code: 'E_JSON' | 'E_CONFIG_INVALID' | 'E_ADAPTER_CONFIG' | 'E_CHECKPOINT_SHARDS' | 'E_STORE_MANIFEST' = 'E_JSON'): Promise<unknown> {
  const text = await files.readText(name);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new LoraTleError(code, `${files.label}/${name} is not valid JSON (${(cause as Error).message}); fix or regenerate the file`, {
      cause,
      details: { file: `${files.label}/${name}` },
    });
  }
}

/** Rejects names that would leave the directory (absolute paths, `..` segments). */
export function assertRelativeName(name: string, label: string): void {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.split('/').some((part) => part === '..' || part === '')) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `${label}: file name ${JSON.stringify(name)} is not a plain relative path inside the directory`);
  }
}

/** A FileSet over `baseUrl` (HTTP Range reads through fetch). */
export function urlFileSet(baseUrl: string, options: FetchByteSourceOptions = {}): FileSet {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const doFetch = options.fetch ?? globalThis.fetch;
  const urlOf = (name: string) => {
    assertRelativeName(name, base);
    return new URL(name, base).toString();
  };
  return {
    label: baseUrl,
    async exists(name) {
      try {
        const response = await doFetch(urlOf(name), { method: 'HEAD', headers: { ...options.headers }, signal: options.signal ?? null });
        return response.ok;
      } catch (cause) {
        throw new LoraTleError('E_IO', `cannot reach ${urlOf(name)}: ${(cause as Error).message}`, { cause });
      }
    },
    async readText(name) {
      let response: Response;
      try {
        response = await doFetch(urlOf(name), { headers: { ...options.headers }, signal: options.signal ?? null });
      } catch (cause) {
        throw new LoraTleError('E_IO', `cannot fetch ${urlOf(name)}: ${(cause as Error).message}`, { cause });
      }
      if (response.status === 404) throw new LoraTleError('E_NOT_FOUND', `${urlOf(name)} does not exist (HTTP 404)`);
      if (!response.ok) throw new LoraTleError('E_IO', `fetching ${urlOf(name)} failed with HTTP ${response.status}`);
      return response.text();
    },
    openBytes: (name) => openFetchByteSource(urlOf(name), options),
  };
}
