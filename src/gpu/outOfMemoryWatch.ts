/**
 * A job's 'out-of-memory' error scope, checked while the job runs.
 *
 * WebGPU does not throw when an allocation fails: createBuffer returns an invalid buffer and the
 * GPUOutOfMemoryError goes to the innermost error scope, which is only read when it is popped.
 * A scope held for the whole job would report a failed allocation at its end, after minutes of
 * work on invalid buffers. `check()` pops the scope and pushes a fresh one in the same task (no
 * GPU call can fall between them), so each span of the job is covered once; the popped scope's
 * answer arrives later and, if it holds an out-of-memory error, `onOutOfMemory` is called (the
 * worker aborts the job, which then stops at its next step). `finish()` pops the last scope and
 * returns the first out-of-memory error any span saw.
 *
 * Spans are checked at most one at a time: a check while the previous answer is pending is
 * skipped (that span simply joins the next one).
 */
export class OutOfMemoryWatch {
  private first: GPUError | null = null;
  private pending: Promise<void> | null = null;
  private open = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly onOutOfMemory: (error: GPUError) => void = () => {},
  ) {
    device.pushErrorScope('out-of-memory');
    this.open = true;
  }

  /** The first out-of-memory error seen so far (spans already answered). */
  get error(): GPUError | null {
    return this.first;
  }

  /** Ends the current span and starts the next; its answer is read in the background. */
  check(): void {
    if (!this.open || this.pending) return;
    const answer = this.device.popErrorScope();
    this.device.pushErrorScope('out-of-memory');
    this.pending = answer.then(
      (e) => {
        this.pending = null;
        this.seen(e);
      },
      () => {
        this.pending = null; // a lost device rejects: the loss is reported on its own path
      },
    );
  }

  /** Ends the last span; the first out-of-memory error of the whole job, or null. */
  async finish(): Promise<GPUError | null> {
    if (this.open) {
      this.open = false;
      const last = this.device.popErrorScope().catch(() => null);
      await this.pending;
      this.seen(await last);
    }
    return this.first;
  }

  private seen(e: GPUError | null): void {
    if (!e || this.first) return;
    this.first = e;
    this.onOutOfMemory(e);
  }
}
