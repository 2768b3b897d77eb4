package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"
)

// TemplateFuncs are the functions a --template can use besides Go's
// built-in ones.
var TemplateFuncs = template.FuncMap{
	"location": Location,
	"short":    ShortDigest,
	"join":     strings.Join,
	"upper":    strings.ToUpper,
	"lower":    strings.ToLower,
	"cut":      func(n int, s string) string { return cut(s, n) },
	"status":   status,
	"summary":  summary,
	"bytes":    HumanBytes,
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// ParseTemplateFile reads and parses a Go text/template file. The
// template runs over the Report (the same data as the JSON output).
func ParseTemplateFile(path string) (*template.Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := template.New(path).Funcs(TemplateFuncs).Option("missingkey=error").Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("parsing the template: %w", err)
	}
	return t, nil
}

// WriteTemplate executes t over the report.
// Strings from the image are sanitised first (sanitize.Text).
func WriteTemplate(w io.Writer, r *Report, t *template.Template) error {
	return t.Execute(w, Sanitized(r))
}
