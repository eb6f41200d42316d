// The game page: the join screen, then a game (as a player), or the TV view (as a
// spectator, with `?view=tv`).
//
// The page's address is always a link to what it shows: `/?s=CODE` once joined,
// `/?s=CODE&view=tv` for the TV view, and a bare `/` for the join screen after a
// refusal, so that a reload never repeats a join that is bound to fail.

import { Sounds } from "./audio";
import { Game } from "./game";
import { Steering } from "./input";
import { copyInvite, isValidCode, joinLink, showInvite } from "./invite";
import { $ } from "./page";

/** Letters and digits that cannot be mistaken for one another. */
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const NAME_KEY = "arena.name";

function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join("");
}

/** The share link under the form: only for a code the server would accept. */
function showShareLink(code: string): void {
  const valid = isValidCode(code);
  const link = $("share-link") as HTMLAnchorElement;
  link.href = valid ? joinLink(location.origin, code) : "";
  link.textContent = valid ? link.href : "";
  $("share").hidden = !valid;
  $("session-hint").hidden = code === "" || valid;
}

/** Starts a game (or the TV view) and wires the HUD's buttons to it. */
function play(name: string, session: string | null, tv: boolean, sounds: Sounds, steering: Steering): void {
  $("join").hidden = true;
  $("game").hidden = false;
  document.body.classList.toggle("tv", tv);
  const game = new Game({ name, session, role: tv ? "Spectator" : "Player", tv }, sounds, steering);
  $("pair-button").addEventListener("click", () => game.requestPairCode());
  $("pair-close").addEventListener("click", () => ($("pairing").hidden = true));
  $("invite-button").addEventListener("click", () => {
    const code = game.sessionCode();
    if (code) void showInvite(code);
  });
  $("invite-copy").addEventListener("click", () => void copyInvite());
  wireChat(game);
  $("invite-close").addEventListener("click", () => ($("invite").hidden = true));
  $("leave-button").addEventListener("click", () => {
    const code = game.sessionCode();
    game.leave();
    location.assign(code ? `/?s=${encodeURIComponent(code)}&left=1` : "/?left=1");
  });
  // A page that is closed says goodbye: its player leaves now, not after the grace
  // period that is meant for a lost connection.
  window.addEventListener("pagehide", () => game.leave());
  (window as unknown as { arena: unknown }).arena = {
    inspect: () => game.inspect(),
    simulateNetworkDrop: (outageMs?: number) => game.connection.simulateDrop(outageMs),
  };
}

/**
 * The chat box: Enter (or the chat button) opens it, Enter sends, Esc closes. While it
 * is open the arrow and WASD keys type, they do not steer (see `input.ts`).
 */
function wireChat(game: Game): void {
  const form = $("chat-form");
  const input = $("chat-input") as HTMLInputElement;
  const open = () => {
    form.hidden = false;
    input.focus();
  };
  const close = () => {
    input.value = "";
    form.hidden = true;
    input.blur();
  };
  $("chat-open").addEventListener("click", open);
  window.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.target as HTMLElement).tagName !== "INPUT" && !$("game").hidden) {
      e.preventDefault();
      open();
    }
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    game.sayInChat(input.value);
    close();
  });
}

function start(): void {
  const sounds = new Sounds();
  const steering = new Steering(window, document.getElementById("joystick"));
  const nameInput = $("name") as HTMLInputElement;
  const sessionInput = $("session") as HTMLInputElement;
  nameInput.value = localStorage.getItem(NAME_KEY) ?? "";
  const params = new URLSearchParams(location.search);
  const shared = params.get("s");
  if (params.get("view") === "tv") {
    play("tv", shared, true, sounds, steering);
    return;
  }
  if (shared) {
    sessionInput.value = shared;
    showShareLink(shared);
  }
  if (params.has("left")) {
    $("join-notice").textContent = "You left the game. Join again whenever you like.";
    $("join-notice").hidden = false;
  }
  sessionInput.addEventListener("input", () => showShareLink(sessionInput.value.trim()));
  $("create-private").addEventListener("click", () => {
    sessionInput.value = randomCode();
    showShareLink(sessionInput.value);
  });
  $("watch-button").addEventListener("click", () => {
    const code = sessionInput.value.trim();
    if (code !== "" && !isValidCode(code)) return showShareLink(code);
    location.assign(joinLink(location.origin, code === "" ? "lobby" : code, "tv"));
  });
  const mute = $("mute");
  const showMute = () => (mute.textContent = sounds.muted ? "muted" : "sound on");
  showMute();
  const toggleMute = () => { sounds.toggleMute(); showMute(); };
  mute.addEventListener("click", toggleMute);
  const toggleStats = () => ($("stats").hidden = !$("stats").hidden);
  $("stats-toggle").addEventListener("click", toggleStats);
  window.addEventListener("keydown", (e) => {
    if ((e.target as HTMLElement).tagName === "INPUT") return;
    if (e.code === "KeyM") toggleMute();
    if (e.code === "Backquote" || e.code === "KeyI") toggleStats();
  });
  // After a refusal, a clean join screen: not the address that was refused.
  $("back").addEventListener("click", () => location.assign("/"));

  $("join-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = nameInput.value.trim() || "player";
    const code = sessionInput.value.trim();
    localStorage.setItem(NAME_KEY, name);
    sounds.unlock();
    play(name, code === "" ? null : code, false, sounds, steering);
  });
}

start();
