/**
 * Resolves once this process (all its threads) has used `milliseconds` more CPU time than when it was called.
 *
 * Tests use it to act while native work they started is under way, for instance to abort a long batch in the
 * middle: CPU time only advances while that work runs, so the condition holds as well on a loaded machine as on
 * an idle one, where a wall-clock delay would fire before the work started (an abort that then finds nothing to
 * stop) or after it ended. Meanwhile this thread only wakes to look, which costs microseconds.
 */
export async function afterCpuTime(milliseconds: number): Promise<void> {
    const start = process.cpuUsage();
    for (;;) {
        const { user, system } = process.cpuUsage(start);
        if ((user + system) / 1000 >= milliseconds) return;
        await new Promise((resolve) => setTimeout(resolve, 2));
    }
}
