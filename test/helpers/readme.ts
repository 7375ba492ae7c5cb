/** The README's fenced code blocks, with the heading each sits under, for the tests that run them. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const root = path.join(__dirname, '..', '..');

export interface CodeBlock {
  /** The fence's language: 'js', 'sh', ... */
  lang: string;
  code: string;
  /** The `## ` heading the block sits under. */
  heading: string;
}

/** Every fenced block of README.md, in order. */
export function readmeBlocks(): CodeBlock[] {
  const text = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks: CodeBlock[] = [];
  let heading = '';
  for (const m of text.matchAll(/^## (.+)$|^```(\w*)\n([\s\S]*?)^```$/gm)) {
    if (m[1] !== undefined) heading = m[1];
    else blocks.push({ lang: m[2] ?? '', code: m[3] ?? '', heading });
  }
  return blocks;
}

/** The commands of a shell block: one per line, comments and blank lines dropped. */
export function shellCommands(code: string): string[] {
  return code
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A TCP port that was free a moment ago (the kernel's pick), for commands that need a number. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
