// What both pages (the game and the phone controller) need from the document.

/** The element with this id; a page without it is a broken build, so this throws. */
export const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page lacks #${id}`);
  return el as T;
};

/** The server's WebSocket endpoint, on the host that served this page. */
export function socketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}
