/** Where a progress bar draws: stderr, or anything with the same two members (tests). */
export interface ProgressStream {
    write(text: string): unknown;
    isTTY?: boolean;
}

export interface ProgressBarOptions {
    /** default process.stderr */
    stream?: ProgressStream;
    /** draw at all; default: only when the stream is a terminal, so logs and pipes stay clean */
    enabled?: boolean;
    /** bar width in characters, default 24 */
    width?: number;
    /** milliseconds between redraws, default 100 (the last state is always drawn) */
    interval?: number;
}

function formatSeconds(seconds: number): string {
    if (!Number.isFinite(seconds)) return "?";
    if (seconds < 60) return `${Math.round(seconds)}s`;
    const minutes = Math.floor(seconds / 60);
    return minutes < 60 ? `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** One line redrawn in place: `label [█████░░░░░] 12/40 30% eta 9s`. */
export class ProgressBar {
    readonly label: string;
    readonly total: number;
    #done = 0;
    #lastDraw = 0;
    #finished = false;
    readonly #started = Date.now();
    readonly #stream: ProgressStream;
    readonly #enabled: boolean;
    readonly #width: number;
    readonly #interval: number;

    constructor(label: string, total: number, options: ProgressBarOptions = {}) {
        this.label = label;
        this.total = Math.max(0, total);
        this.#stream = options.stream ?? process.stderr;
        this.#enabled = options.enabled ?? this.#stream.isTTY === true;
        this.#width = options.width ?? 24;
        this.#interval = options.interval ?? 100;
    }

    get done(): number {
        return this.#done;
    }

    /** The line as it would be drawn now. */
    render(): string {
        const fraction = this.total === 0 ? 1 : Math.min(1, this.#done / this.total);
        const filled = Math.round(fraction * this.#width);
        const elapsed = (Date.now() - this.#started) / 1000;
        const eta = this.#done === 0 ? NaN : (elapsed / this.#done) * (this.total - this.#done);
        const tail = this.#finished ? `in ${formatSeconds(elapsed)}` : `eta ${formatSeconds(eta)}`;
        return `${this.label} [${"█".repeat(filled)}${"░".repeat(this.#width - filled)}] ${this.#done}/${this.total} ${Math.floor(fraction * 100)}% ${tail}`;
    }

    advance(count = 1): void {
        this.#done = Math.min(this.total, this.#done + count);
        const now = Date.now();
        if (this.#done === this.total || now - this.#lastDraw >= this.#interval) {
            this.#lastDraw = now;
            this.#draw();
        }
    }

    /** Draws the final state and ends the line. */
    finish(): void {
        if (this.#finished) return;
        this.#finished = true;
        this.#draw();
        if (this.#enabled) this.#stream.write("\n");
    }

    #draw(): void {
        if (this.#enabled) this.#stream.write(`\r${this.render()}\u001b[K`);
    }
}
