// Package sanitize keeps the strings an image supplies — paths, created_by,
// tags, labels, package names — inert in layerscan's output: an image
// author must not be able to move the cursor, clear the screen, set the
// clipboard (OSC 52), overwrite a line with a carriage return, start a new
// row or record with a line feed, or reorder what a reader sees with
// bidirectional overrides.
//
// Text is for every writer that prints for people or for line-oriented
// tools (the table, CSV, Markdown, HTML, templates, SARIF message text,
// the history and ls listings, extract hints, progress bars, logs): a
// string holding a character that is not printable (C0 and C1 controls,
// DEL, bidirectional and other format characters, line and paragraph
// separators, invalid UTF-8) is written Go-quoted — "a\x1b[2Jb" — so the
// character is visible and never emitted. JSON keeps the data exact and
// inert: the encoder escapes C0 controls, and JSON escapes the rest
// (C1 controls, format characters) as \uXXXX in the encoded bytes.
package sanitize
