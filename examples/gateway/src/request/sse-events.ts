/*
 * The text of an SSE stream, as sse-relay.ts reads it: its line ends, and the fields of one event.
 */

/**
 * SSE ends lines with CRLF, LF or CR (servers built on sse-starlette send CRLF): turn each into a
 * line feed, so events split on a blank line. A CR at the end of a piece waits for the next one,
 * in case it is the first half of a CRLF.
 */
export function lineFeeds(): { normalize(text: string): string; flush(): string } {
  let pendingCarriageReturn = false;
  return {
    flush() {
      const rest = pendingCarriageReturn ? '\n' : '';
      pendingCarriageReturn = false;
      return rest;
    },
    normalize(text) {
      let piece = pendingCarriageReturn ? `\r${text}` : text;
      pendingCarriageReturn = piece.endsWith('\r');
      if (pendingCarriageReturn) piece = piece.slice(0, -1);
      return piece.replace(/\r\n?/g, '\n');
    },
  };
}

/** The `event:` name and the `data:` lines (joined by line feeds) of one SSE event; no data for a comment or keep-alive. */
export function sseEvent(block: string): { name?: string; data?: string } {
  let name: string | undefined;
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith('data:')) {
      const value = line.slice(line.startsWith('data: ') ? 6 : 5).replace(/\r$/, '');
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (line.startsWith('event:')) name = line.slice(6).trim();
  }
  const event: { name?: string; data?: string } = {};
  if (name !== undefined) event.name = name;
  if (data !== undefined) event.data = data.trim();
  return event;
}
