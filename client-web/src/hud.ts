// The HUD around the arena: the scoreboard, the round timer, and the toasts that say
// what just happened.

import { $ } from "./page";
import { colorOf } from "./render";
import type { World } from "./world";

/** Shows `text` briefly at the bottom of the arena. */
export function toast(text: string): void {
  const el = $("toast");
  el.textContent = text;
  el.classList.remove("show");
  void el.offsetWidth;
  el.classList.add("show");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "Round 2 · 1:05", or "Next round in 4 s", at fractional server tick `tick`. */
export function timerText(world: World, tick: number): string {
  const seconds = Math.max(0, Math.ceil((world.round.ends_at - tick) / world.tickHz));
  return world.round.phase === "Playing"
    ? `Round ${world.round.number} · ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`
    : `Next round in ${seconds} s`;
}

/** The best `rows` players; yours highlighted, the ones reconnecting dimmed. */
export function drawScoreboard(world: World, you: number | null, rows: number): void {
  const html = world
    .leaderboard()
    .slice(0, rows)
    .map((r) => {
      const away = world.away.has(r.id);
      const classes = [r.id === you ? "me" : "", away ? "away" : ""].join(" ").trim();
      const mark = away ? " (reconnecting)" : "";
      return `<li class="${classes}"><span class="dot" style="background:${colorOf(r.id)}"></span>${escapeHtml(r.name)}${mark}<b>${r.points}</b></li>`;
    })
    .join("");
  const board = $("scoreboard");
  if (board.innerHTML !== html) board.innerHTML = html;
}

/** The round-over panel with the final scores. */
export function showRoundOver(world: World, you: number | null, scores: { id: number; points: number }[]): void {
  $("final-scores").replaceChildren(
    ...scores.slice(0, 10).map((s) => {
      const li = document.createElement("li");
      li.textContent = `${world.nameOf(s.id) ?? "?"}: ${s.points}`;
      if (s.id === you) li.className = "me";
      return li;
    }),
  );
  $("round-over").hidden = false;
}

/** Chat lines shown at once; older ones scroll away. */
const CHAT_SHOWN = 8;

/** Adds chat lines to the list `id`, as text (names and lines are the players'). */
export function showChat(id: string, lines: { from: string; text: string }[], shown = CHAT_SHOWN): void {
  const list = $(id);
  for (const line of lines) {
    const li = document.createElement("li");
    const from = document.createElement("b");
    from.textContent = line.from;
    li.append(from, document.createTextNode(line.text));
    list.append(li);
  }
  while (list.children.length > shown) list.firstElementChild?.remove();
}
