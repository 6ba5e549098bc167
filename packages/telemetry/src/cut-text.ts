/**
 * The first `chars` characters of `text`, as a string of their own: what the in-memory buffers
 * (log ring, span store, dead letters) keep of a value too long to keep whole. V8 makes a
 * `slice` of a long string a view that keeps the whole original alive, so a 10 MB value cut to
 * 8 KiB with `slice` alone would still hold its 10 MB for as long as the buffer keeps the cut.
 * `text` itself when it is short enough. (A cut through a surrogate pair leaves U+FFFD.)
 */
export function cutText(text: string, chars: number): string {
  if (text.length <= chars) return text;
  return Buffer.from(text.slice(0, chars), "utf8").toString("utf8");
}
