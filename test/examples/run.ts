/** Runs an example as a child process (through tsx) and collects its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const root = path.join(__dirname, '..', '..');

/** Starts examples/<name>.ts with args; stdout and stderr are piped. */
export function startExample(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const script = path.join(root, 'examples', `${name}.ts`);
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

/** Runs an example to its end. */
export function runExample(
  name: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startExample(name, args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Waits for the first stdout line matching re and returns its match. */
export function waitForLine(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        child.stdout?.off('data', onData);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${re}: ${out}`)));
  });
}
