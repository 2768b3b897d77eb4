package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Images yields a report's images in order, stopping at the first error
// yield returns. A writer may call it more than once (SARIF reads the
// images in several passes); each call reads them again, so a report of
// a whole registry is written from its store without being held.
type Images func(yield func(*Image) error) error

// Stream is a report whose images are read while it is written: what
// layerscan sweep and layerscan report write. Every format streams but
// html and template, which hold the whole report (see Collect).
type Stream struct {
	Tool   Tool
	Images Images

	tally Tally
}

// NewStream is the report of the images images yields, made by tool.
func NewStream(tool Tool, images Images) *Stream {
	return &Stream{Tool: tool, Images: images}
}

// Stream is r as a Stream.
func (r *Report) Stream() *Stream {
	return NewStream(r.Tool, func(yield func(*Image) error) error {
		for _, im := range r.Images {
			if err := yield(im); err != nil {
				return err
			}
		}
		return nil
	})
}

// Tally counts what the last complete pass over a stream's images met.
type Tally struct {
	Images, Findings int
	// Incomplete: some image had an error.
	Incomplete bool
	// Verified counts the findings of secrets --verify found working.
	Verified int
	// counted are the findings that count for an exit status (not the
	// vendor ones) by severity rank.
	counted [5]int
}

// Failing counts the findings at or above severity min that count for an
// exit status (Report.Failing).
func (t Tally) Failing(min string) int {
	n := 0
	for rank := detect.SeverityRank(min); rank < len(t.counted); rank++ {
		n += t.counted[rank]
	}
	return n
}

// Tally is what the last complete pass over the images counted.
func (s *Stream) Tally() Tally { return s.tally }

// each is one pass over the images, tallied.
func (s *Stream) each(f func(*Image) error) error {
	var t Tally
	err := s.Images(func(im *Image) error {
		t.Images++
		t.Findings += len(im.Findings)
		t.Incomplete = t.Incomplete || len(im.Errors) > 0
		for _, fd := range im.Findings {
			if v, ok := im.Verdicts[fd.SecretID]; ok && fd.SecretID != "" && v.Status == Verified {
				t.Verified++
			}
			if !fd.Vendor {
				t.counted[min(max(detect.SeverityRank(fd.Severity), 0), len(t.counted)-1)]++
			}
		}
		return f(im)
	})
	if err == nil {
		s.tally = t
	}
	return err
}

// Collect reads every image into a Report (what html and template need).
func (s *Stream) Collect() (*Report, error) {
	r := New(s.Tool)
	err := s.each(func(im *Image) error {
		r.Images = append(r.Images, im)
		return nil
	})
	return r, err
}

// streamPlaceholder marks, in a document's skeleton, an array whose
// elements are streamed (streamJSON).
const streamPlaceholder = "\x60layerscan-stream:%s\x60"

// streamed is the placeholder of the array named name.
func streamed(name string) string { return fmt.Sprintf(streamPlaceholder, name) }

// streamJSON writes skeleton as writeJSON does, each of its string values
// streamed(name) replaced by the array whose elements arrays[name]
// emits: byte for byte what writeJSON writes of the whole document, the
// elements never all held. The arrays are filled in the order they come
// in the document, one producer call each.
func streamJSON(w io.Writer, skeleton any, arrays map[string]func(emit func(any) error) error) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(skeleton); err != nil {
		return err
	}
	doc := b.Bytes()
	write := func(p []byte) error {
		_, err := w.Write(sanitize.JSON(p))
		return err
	}
	for len(doc) > 0 {
		at, name := -1, ""
		for n := range arrays {
			if i := bytes.Index(doc, []byte(`"`+streamed(n)+`"`)); i >= 0 && (at < 0 || i < at) {
				at, name = i, n
			}
		}
		if at < 0 {
			return write(doc)
		}
		if err := write(doc[:at]); err != nil {
			return err
		}
		line := doc[bytes.LastIndexByte(doc[:at], '\n')+1 : at]
		indent := string(line[:len(line)-len(bytes.TrimLeft(line, " "))])
		n := 0
		var eb bytes.Buffer
		el := json.NewEncoder(&eb)
		el.SetIndent(indent+"  ", "  ")
		el.SetEscapeHTML(false)
		err := arrays[name](func(v any) error {
			eb.Reset()
			if n == 0 {
				eb.WriteString("[\n")
			} else {
				eb.WriteString(",\n")
			}
			eb.WriteString(indent + "  ")
			if err := el.Encode(v); err != nil {
				return err
			}
			eb.Truncate(eb.Len() - 1) // Encode's newline
			n++
			return write(eb.Bytes())
		})
		if err != nil {
			return err
		}
		end := "[]"
		if n > 0 {
			end = "\n" + indent + "]"
		}
		if err := write([]byte(end)); err != nil {
			return err
		}
		doc = doc[at+len(streamed(name))+2:]
	}
	return nil
}

// writeJSONStream writes the layerscan/v1 JSON report of s.
func writeJSONStream(w io.Writer, s *Stream) error {
	v, err := s.SecretsView()
	if err != nil {
		return err
	}
	if v.Secrets == nil {
		v.Secrets = []Secret{}
	}
	skeleton := struct {
		Schema  string   `json:"schema"`
		Tool    Tool     `json:"tool"`
		Totals  Totals   `json:"totals"`
		Secrets []Secret `json:"secrets"`
		Images  string   `json:"images"`
	}{Schema, s.Tool, v.Totals, v.Secrets, streamed("images")}
	return streamJSON(w, skeleton, map[string]func(func(any) error) error{
		"images": func(emit func(any) error) error {
			return s.each(func(im *Image) error { return emit(im) })
		},
	})
}
