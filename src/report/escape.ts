// Text from users (network names, image ids, titles) reaches markdown and HTML only through these.

/** Escapes &, <, >, " and ' for HTML text and double- or single-quoted attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Backslash-escapes CommonMark's inline specials (so `|` cannot split a table cell, `<b>` stays text); newlines become spaces. */
export const escapeMarkdown = (s: string): string => s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|#!~]/g, (c) => `\\${c}`);
