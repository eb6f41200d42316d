// The operator's live page (/admin): log in with the admin token, then a server-sent
// feed of the whole server each second: figures, charts of the last five minutes,
// sessions (close one), their players (kick one), and the last protocol refusals.

import { $ } from "./page";

interface PlayerReport { id: number; name: string; score: number; connected: boolean; controller: boolean; ping_ms: number | null }
interface SessionReport {
  code: string; worker: number; players: PlayerReport[]; spectators: number; controllers: number; round: number;
  phase: string; seconds_left: number; tick_us: number; bytes_per_s: number; owed: number; resyncs_per_s: number;
}
interface AdminState {
  server: Record<string, number | string>;
  sessions: SessionReport[];
  refusals: { kind: string; address: string; at_ms: number }[];
}

/** Five minutes of one-second samples. */
const HISTORY = 300;
const history = { tickP50: [] as number[], tickP99: [] as number[], bytes: [] as number[], connections: [] as number[] };
let shownSession: string | null = null;
let updates = 0;

function push(series: number[], value: number): void {
  series.push(value);
  if (series.length > HISTORY) series.shift();
}

/** Line charts of `series` on `canvas`, scaled to their common maximum. */
function chart(id: string, series: [number[], string][]): void {
  const canvas = $(id) as HTMLCanvasElement;
  const ctx = canvas.getContext("2d")!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const max = Math.max(1, ...series.flatMap(([s]) => s));
  for (const [values, color] of series) {
    ctx.beginPath();
    const n = Math.max(2, values.length);
    values.forEach((v, i) => {
      const x = (i / (n - 1)) * canvas.width;
      const y = canvas.height - 4 - (v / max) * (canvas.height - 8);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  ctx.fillStyle = "#8b949e";
  ctx.font = "11px system-ui";
  ctx.fillText(String(Math.round(max)), 4, 12);
}

/** A table row of text cells (never HTML: names are the players'), and optional buttons. */
function row(cells: (string | number)[], buttons: [string, () => void][] = []): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = String(cell);
    tr.append(td);
  }
  const td = document.createElement("td");
  for (const [label, act] of buttons) {
    const button = document.createElement("button");
    button.textContent = label;
    button.className = "danger small";
    button.addEventListener("click", (e) => {
      e.stopPropagation();
      act();
    });
    td.append(button);
  }
  tr.append(td);
  return tr;
}

async function act(path: string): Promise<void> {
  const response = await fetch(path, { method: "POST" });
  if (!response.ok) alert((await response.text()).trim());
}

function show(state: AdminState): void {
  updates += 1;
  const s = state.server;
  $("admin-updated").textContent = `${new Date().toLocaleTimeString()} (update ${updates})`;
  const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
  const figures: [string, string][] = [
    ["uptime", `${s.uptime_s} s`], ["connections", String(s.connections)], ["sessions", String(s.sessions)],
    ["players", String(s.players)], ["spectators", String(s.spectators)], ["controllers", String(s.controllers)],
    ["messages in", `${Number(s.messages_in_per_s).toFixed(0)}/s`], ["bytes out", `${kb(Number(s.bytes_out_per_s))}/s`],
    ["CPU", `${Number(s.cpu_s_per_s).toFixed(2)} s/s`], ["RSS", `${(Number(s.rss_bytes) / 1048576).toFixed(1)} MiB`],
    ["tick p50 / p99", `${s.tick_p50_us} / ${s.tick_p99_us} µs`], ["results", String(s.results)],
    ["admin logins refused", String(s.admin_logins_refused)],
  ];
  $("admin-figures").replaceChildren(...figures.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    return [dt, dd];
  }));
  push(history.tickP50, Number(s.tick_p50_us));
  push(history.tickP99, Number(s.tick_p99_us));
  push(history.bytes, Number(s.bytes_out_per_s));
  push(history.connections, Number(s.connections));
  chart("chart-tick", [[history.tickP99, "#f85149"], [history.tickP50, "#58a6ff"]]);
  chart("chart-bytes", [[history.bytes, "#3fb950"]]);
  chart("chart-connections", [[history.connections, "#d29922"]]);

  const sessions = [...state.sessions].sort((a, b) => a.code.localeCompare(b.code));
  $("admin-sessions").querySelector("tbody")!.replaceChildren(...sessions.map((x) => {
    const tr = row(
      [x.code, x.players.length, x.spectators, `${x.round} ${x.phase}`, `${x.seconds_left} s`, x.tick_us.toFixed(0),
        x.bytes_per_s, x.owed, x.resyncs_per_s],
      [["Close", () => void act(`/admin/api/sessions/${encodeURIComponent(x.code)}/close`)]],
    );
    tr.className = "clickable";
    tr.addEventListener("click", () => {
      shownSession = x.code;
      showPlayers(state);
    });
    return tr;
  }));
  showPlayers(state);
  $("admin-refusals").querySelector("tbody")!.replaceChildren(
    ...state.refusals.map((r) => row([new Date(r.at_ms).toLocaleTimeString(), r.kind, r.address])),
  );
}

function showPlayers(state: AdminState): void {
  const session = state.sessions.find((x) => x.code === shownSession);
  $("admin-players").hidden = !session;
  if (!session) return;
  $("admin-players-session").textContent = session.code;
  $("admin-players").querySelector("tbody")!.replaceChildren(...session.players.map((p) =>
    row([p.id, p.name, p.score, p.ping_ms === null ? "…" : `${p.ping_ms.toFixed(1)} ms`, p.connected ? "connected" : "in grace",
      p.controller ? "paired" : ""],
      [["Kick", () => void act(`/admin/api/sessions/${encodeURIComponent(session.code)}/players/${p.id}/kick`)]]),
  ));
}

function live(): void {
  $("admin-login").hidden = true;
  $("admin-live").hidden = false;
  const feed = new EventSource("/admin/api/events");
  feed.onmessage = (e: MessageEvent) => show(JSON.parse(String(e.data)) as AdminState);
}

async function start(): Promise<void> {
  const me = await fetch("/admin/api/me");
  if (me.status === 404) {
    $("admin-off").textContent = (await me.text()).trim();
    $("admin-off").hidden = false;
  } else if (me.ok) {
    live();
  } else {
    $("admin-login").hidden = false;
  }
}

$("admin-login").addEventListener("submit", (e) => {
  e.preventDefault();
  const token = ($("admin-token") as HTMLInputElement).value;
  void fetch("/admin/login", { method: "POST", body: new URLSearchParams({ token }) }).then(async (response) => {
    if (response.ok) return live();
    $("admin-login-error").textContent = response.status === 401 ? "Wrong token." : (await response.text()).trim();
    $("admin-login-error").hidden = false;
  });
});
(window as unknown as { admin: unknown }).admin = { inspect: () => ({ updates, samples: history.connections.length }) };
void start();
