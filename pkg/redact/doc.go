// Package redact hides secrets in the text layerscan prints and stores:
// paths, archive member names, created_by and instructions, config
// fields, warnings.
//
// A secret leaks through its encoded forms as surely as through its
// plaintext: a layer made by `RUN echo dG9rZW49Z2hwX… | base64 -d > f`
// keeps the base64 in its history, a file may be named after a key. A
// Redactor knows the plaintext of every secret the scan found and hides,
// in any text, the secret itself, its hex and percent encodings and the
// base64 runs that hold it (at any byte offset), every encoded run
// (base64, hex, percent, unicode escapes — the runs gitleaks' decoder
// reads) whose decoded value holds a known secret or one the detector
// finds, whatever the detector finds in the text itself, and the values of
// build arguments that history text records. Hidden values
// keep their first characters, then "****" (detect.Redact).
//
// The same Redactor serves every output: pkg/scan applies it to every
// string of a report an image supplied (report.Image.MapStrings) before
// any writer or store sees the report.
package redact
