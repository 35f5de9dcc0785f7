/** What every command gets: where to print, and the exit code it sets. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CliContext {
  io: CliIo;
  /** Exit code of the command; 0 unless a command sets it (an error in `main()` makes it 1). */
  exitCode: number;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};
