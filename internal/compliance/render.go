package compliance

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// Formats are the report's renderings.
var Formats = []string{"markdown", "json", "html"}

// Write renders r in format (one of Formats) to w.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "markdown", "md":
		return r.markdown(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "html":
		return htmlReport.Execute(w, r)
	}
	return fmt.Errorf("compliance: unknown format %q (one of %s)", format, strings.Join(Formats, ", "))
}

// mdCell makes s safe in a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func (r *Report) markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Ward HIPAA Security Rule control report\n\n")
	if r.OrgID != nil {
		fmt.Fprintf(&b, "Computed %s from the running system for the org %s. ", r.GeneratedAt.Format(time.RFC3339), mdCell(r.orgLabel()))
		fmt.Fprintf(&b, "PASS %d · PARTIAL %d · GAP %d · N/A %d · INSTANCE %d (see your operator's report)\n\n",
			r.Count(Pass), r.Count(Partial), r.Count(Gap), r.Count(NA), r.Count(Instance))
	} else {
		fmt.Fprintf(&b, "Computed %s from the running system (%s, %d orgs). ", r.GeneratedAt.Format(time.RFC3339), r.Database, r.Orgs)
		fmt.Fprintf(&b, "PASS %d · PARTIAL %d · GAP %d · N/A %d\n\n", r.Count(Pass), r.Count(Partial), r.Count(Gap), r.Count(NA))
	}
	b.WriteString("| Control | Safeguard | Title | Status |\n|---|---|---|---|\n")
	for _, c := range r.Controls {
		fmt.Fprintf(&b, "| §%s | %s | %s | **%s** |\n", mdCell(c.ID), c.Safeguard, mdCell(c.Title), c.Status)
	}
	for _, c := range r.Controls {
		fmt.Fprintf(&b, "\n## §%s %s: %s\n\n", c.ID, c.Title, c.Status)
		for _, e := range c.Evidence {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// orgLabel names the org of an org admin's report: its name and id.
func (r *Report) orgLabel() string {
	if r.OrgID == nil {
		return ""
	}
	if r.OrgName != "" {
		return fmt.Sprintf("%q (%s)", r.OrgName, r.OrgID)
	}
	return r.OrgID.String()
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.Format(time.RFC3339) },
	"class": func(s Status) string {
		return map[Status]string{Pass: "pass", Partial: "partial", Gap: "gap", NA: "na", Instance: "instance"}[s]
	},
	"count": func(r *Report, s string) int { return r.Count(Status(s)) },
	"org":   func(r *Report) string { return r.orgLabel() },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ward HIPAA Security Rule control report</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
.pass{color:#116329}.partial{color:#9a6700}.gap{color:#cf222e}.na,.instance{color:#57606a}.status{font-weight:700;white-space:nowrap}
ul{margin:.2rem 0;padding-left:1.2rem}
</style></head><body>
<h1>Ward HIPAA Security Rule control report</h1>
{{if .OrgID}}<p>Computed {{time .GeneratedAt}} from the running system for the org {{org .}}.
PASS {{count . "PASS"}} · PARTIAL {{count . "PARTIAL"}} · GAP {{count . "GAP"}} · N/A {{count . "N/A"}} · INSTANCE {{count . "INSTANCE"}} (see your operator's report)</p>
{{else}}<p>Computed {{time .GeneratedAt}} from the running system ({{.Database}}, {{.Orgs}} orgs).
PASS {{count . "PASS"}} · PARTIAL {{count . "PARTIAL"}} · GAP {{count . "GAP"}} · N/A {{count . "N/A"}}</p>
{{end}}
<table><thead><tr><th>Control</th><th>Safeguard</th><th>Title</th><th>Status</th><th>Evidence</th></tr></thead><tbody>
{{range .Controls}}<tr><td>§{{.ID}}</td><td>{{.Safeguard}}</td><td>{{.Title}}</td><td class="status {{class .Status}}">{{.Status}}</td>
<td><ul>{{range .Evidence}}<li>{{.}}</li>{{end}}</ul></td></tr>
{{end}}</tbody></table>
</body></html>
`))
