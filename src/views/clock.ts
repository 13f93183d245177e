// Logical time shown the way the kernel shows a timestamp: one tick is one microsecond, printed
// as seconds with six decimals, the integer part right-aligned in five columns (`%5lu.%06lu`).

export function kernelTimestamp(t: number): string {
  const secs = Math.floor(t / 1_000_000);
  const usecs = t % 1_000_000;
  return `${String(secs).padStart(5, ' ')}.${String(usecs).padStart(6, '0')}`;
}
