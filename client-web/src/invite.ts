// Inviting others: the share link of a session, its QR code, and copying it.
//
// A link is only ever made for a code the server would accept, so that nobody is sent
// to a join that is bound to be refused. A page opened on loopback cannot be reached
// from another device: there the server's LAN address (from /lan) goes into the link.

import QRCode from "qrcode";

import { $ } from "./page";

/** What the server accepts as a session code (see `arena_shared::limits`). */
const CODE = /^[A-Za-z0-9_-]{1,16}$/;

export function isValidCode(code: string): boolean {
  return CODE.test(code);
}

let lanOrigin: Promise<string | null> | null = null;

/** Whether this page was opened on loopback, an address no other device can reach. */
export function onLoopback(): boolean {
  return ["localhost", "127.0.0.1", "[::1]"].includes(location.hostname);
}

/** The origin other devices should use: this page's, or on loopback the server's LAN one. */
export async function shareOrigin(): Promise<string> {
  if (!onLoopback()) return location.origin;
  lanOrigin ??= fetch("/lan")
    .then((r) => (r.ok ? r.text() : null))
    .then((t) => (t && t.trim() !== "" ? t.trim().replace(/\/$/, "") : null))
    .catch(() => null);
  return (await lanOrigin) ?? location.origin;
}

/** The link that opens the game page on `code`'s join screen (or the TV view). */
export function joinLink(origin: string, code: string, view?: "tv"): string {
  return `${origin}/?s=${encodeURIComponent(code)}${view ? `&view=${view}` : ""}`;
}

/** Shows the invite panel for `code`: the link, a copy button, and the QR code. */
export async function showInvite(code: string): Promise<void> {
  const url = joinLink(await shareOrigin(), code);
  $("invite-session").textContent = code;
  ($("invite-link") as HTMLInputElement).value = url;
  $("invite-copied").hidden = true;
  $("invite").hidden = false;
  await QRCode.toCanvas($("invite-qr") as HTMLCanvasElement, url, { width: 220, margin: 1 });
}

/** Copies the invite link; says so, or selects it for a manual copy where the clipboard is refused. */
export async function copyInvite(): Promise<void> {
  const input = $("invite-link") as HTMLInputElement;
  try {
    await navigator.clipboard.writeText(input.value);
    $("invite-copied").textContent = "Copied to the clipboard.";
  } catch {
    input.select();
    $("invite-copied").textContent = "Press Ctrl+C (or ⌘C) to copy the selected link.";
  }
  $("invite-copied").hidden = false;
}

/** Draws a QR code of `url` on `canvas`. */
export function drawQr(canvas: HTMLCanvasElement, url: string, width: number): Promise<void> {
  return QRCode.toCanvas(canvas, url, { width, margin: 1 });
}
