package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"

	"github.com/layerscan/layerscan/pkg/report"
)

// Render a report as SARIF 2.1.0, as code scanning services read it.
func ExampleWrite_sarif() {
	rep := report.New(report.Tool{Name: "layerscan", Version: "v1.0.0"}, &report.Image{
		Ref: "registry.example.com/app:1", Source: "registry.example.com/app:1", Platform: "linux/amd64",
		Findings: []report.Finding{{
			Rule: "github-pat", Description: "GitHub Personal Access Token", Severity: "high",
			Source: "file", Path: "/app/.env", Line: 2, Status: "deleted",
			Layer:  report.LayerRef{Index: 0, Instruction: "COPY . /app"},
			Secret: "ghp_****", Fingerprint: "f1",
		}},
	})
	var out bytes.Buffer
	if err := report.Write(&out, "sarif", rep, report.WriteOptions{}); err != nil {
		log.Fatal(err)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID  string                `json:"ruleId"`
				Level   string                `json:"level"`
				Message struct{ Text string } `json:"message"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &sarif); err != nil {
		log.Fatal(err)
	}
	r := sarif.Runs[0].Results[0]
	fmt.Println(sarif.Version, r.RuleID, r.Level)
	// Output:
	// 2.1.0 github-pat error
}
