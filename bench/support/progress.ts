/**
 * A progress bar on stderr (stdout stays for the result line). On a terminal it redraws one line;
 * into a file or a pipe it writes a line at most every 5 s, so logs stay readable.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private lastLine = 0;
  private drawn = false;

  constructor(private readonly prefix: string) {}

  /** A message on its own line, clearing the bar first. */
  log(message: string): void {
    this.clear();
    process.stderr.write(`[${this.prefix} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  update(phase: string, done: number, total: number, extra = ''): void {
    const width = 30;
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const line = `${phase} [${bar}] ${done}/${total}${extra ? ` ${extra}` : ''}`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLine >= 5_000 || done >= total) {
      this.lastLine = Date.now();
      process.stderr.write(`${line}\n`);
    }
  }

  clear(): void {
    if (this.tty && this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }
}
