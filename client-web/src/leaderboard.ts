// The leaderboard page (/leaderboard): the standings the server keeps in its results
// database, read from /api/leaderboard, by period and optionally by session.

import { $ } from "./page";

interface Standing { name: string; points: number; rounds: number; wins: number }
interface RecentRound { session: string; number: number; ended_at_ms: number; winners: string[]; best: number; players: number }
interface Standings { by_points: Standing[]; by_wins: Standing[]; recent: RecentRound[] }

/** Table rows of plain text cells (never HTML: names are the players'). */
function fill(table: string, rows: (string | number)[][], empty: string): void {
  const body = $(table).querySelector("tbody")!;
  body.replaceChildren(
    ...(rows.length === 0 ? [[empty]] : rows).map((cells) => {
      const tr = document.createElement("tr");
      for (const cell of cells) {
        const td = document.createElement("td");
        td.textContent = String(cell);
        if (rows.length === 0) td.colSpan = 6;
        tr.append(td);
      }
      return tr;
    }),
  );
}

async function show(asked?: string): Promise<void> {
  const period = asked ?? ($("period") as HTMLSelectElement).value;
  const session = ($("board-session") as HTMLInputElement).value.trim();
  const query = new URLSearchParams({ period });
  if (session !== "") query.set("session", session);
  history.replaceState(null, "", `/leaderboard?${query}`);
  const response = await fetch(`/api/leaderboard?${query}`);
  const error = $("board-error");
  if (!response.ok) {
    error.textContent = (await response.text()).trim();
    error.hidden = false;
    return;
  }
  error.hidden = true;
  const standings = (await response.json()) as Standings;
  fill("by-points", standings.by_points.map((s, i) => [i + 1, s.name, s.points, s.rounds, s.wins]), "no rounds yet");
  fill("by-wins", standings.by_wins.map((s, i) => [i + 1, s.name, s.wins, s.rounds, s.points]), "no rounds yet");
  fill(
    "recent",
    standings.recent.map((r) => [
      new Date(r.ended_at_ms).toLocaleString(),
      r.session,
      r.number,
      r.winners.length > 0 ? r.winners.join(", ") : "nobody scored",
      r.best,
      r.players,
    ]),
    "no rounds yet",
  );
}

const params = new URLSearchParams(location.search);
($("period") as HTMLSelectElement).value = params.get("period") ?? "all";
($("board-session") as HTMLInputElement).value = params.get("session") ?? "";
$("period").addEventListener("change", () => void show());
$("board-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void show();
});
(window as unknown as { arena: unknown }).arena = { refresh: () => show() };
// The first look is at the period the address names, even one the server refuses (and says why).
void show(params.get("period") ?? "all");
