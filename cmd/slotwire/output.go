package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slotwire/slotwire/client"
)

// emit prints the answer: with --json the API's JSON as it came (one
// document), else what table writes, aligned in columns.
func (c *cli) emit(table func(w io.Writer)) error {
	if c.json {
		return c.printJSON(c.rec.last)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// printJSON writes a JSON document indented, or as it is if it is not
// JSON; nothing for an empty answer (204).
func (c *cli) printJSON(raw []byte) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	buf.WriteByte('\n')
	_, err := c.stdout.Write(buf.Bytes())
	return err
}

// row writes one tab-separated line of a table.
func row(w io.Writer, cols ...any) {
	parts := make([]string, len(cols))
	for i, col := range cols {
		parts[i] = cell(col)
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}

// cell is a value as a table shows it: "-" for nothing.
func cell(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "-"
		}
		return strings.NewReplacer("\t", " ", "\n", " ").Replace(x)
	case time.Time:
		return fmtTime(x)
	case *time.Time:
		if x == nil {
			return "-"
		}
		return fmtTime(*x)
	case []string:
		return cell(strings.Join(x, ","))
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// fields writes "name:  value" lines of one object, skipping empty
// optional values (name ending in "?").
func fields(w io.Writer, kv ...any) {
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		v := cell(kv[i+1])
		if strings.HasSuffix(name, "?") {
			if v == "-" || v == "0" || v == "no" {
				continue
			}
			name = strings.TrimSuffix(name, "?")
		}
		fmt.Fprintf(w, "%s:\t%s\n", name, v)
	}
}

// truncate shortens s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// parseWhen reads a time: RFC 3339, a date (UTC midnight), or a duration
// ago ("90m", "2d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := parseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: give RFC 3339 (2026-12-01T09:00:00Z), a date (2026-12-01) or a duration ago (90m, 2d)", s)
}

// percent writes a rate of 0..1 as a percentage, "-" when nil.
func percent(r *float64) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}

// millis writes a latency, "-" when nil.
func millis(ms *float64) string {
	if ms == nil {
		return "-"
	}
	return strconv.FormatFloat(*ms, 'f', 1, 64) + " ms"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readInput reads the file a flag names, or standard input for "-".
func readInput(flagName, path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%s: %v", flagName, err)
	}
	return b, nil
}

// jsonArg reads a JSON flag value: the JSON itself, @FILE, or - for
// standard input; it must be valid JSON.
func jsonArg(flagName, v string, stdin io.Reader) (json.RawMessage, error) {
	raw := []byte(v)
	var err error
	switch {
	case v == "-":
		raw, err = readInput(flagName, "-", stdin)
	case strings.HasPrefix(v, "@"):
		raw, err = readInput(flagName, v[1:], stdin)
	}
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if !json.Valid(raw) {
		return nil, usagef("%s: not valid JSON (give the JSON, @FILE or - for standard input)", flagName)
	}
	return raw, nil
}

// pageFlags page through a list.
type pageFlags struct {
	limit  int
	cursor string
	all    bool
}

func addPageFlags(fs *flag.FlagSet) *pageFlags {
	p := &pageFlags{}
	fs.IntVar(&p.limit, "limit", 0, "items per page, 1 to 1000 (0: the server's default, 100)")
	fs.StringVar(&p.cursor, "cursor", "", "start after this item: the next cursor a previous page printed")
	fs.BoolVar(&p.all, "all", false, "fetch every page")
	return p
}

// listPages fetches a page, or with --all every page, and prints the
// items: a table, or with --json the API's JSON (with --all one document
// holding the items of every page). Without --all, the cursor of the next
// page is printed to stderr.
func listPages[T any](c *cli, p *pageFlags, fetch func(cursor string, limit int) (*client.Page[T], error), table func(io.Writer, []T)) error {
	var items []T
	var raw []json.RawMessage
	cursor := p.cursor
	for {
		page, err := fetch(cursor, p.limit)
		if err != nil {
			return apiError(err)
		}
		items = append(items, page.Data...)
		if p.all && c.json {
			var doc struct{ Data []json.RawMessage }
			if err := json.Unmarshal(c.rec.last, &doc); err != nil {
				return err
			}
			raw = append(raw, doc.Data...)
		}
		cursor = page.NextCursor
		if !p.all || cursor == "" || len(page.Data) == 0 {
			break
		}
		c.progress("%d so far…", len(items))
	}
	switch {
	case c.json && p.all:
		doc, _ := json.Marshal(map[string]any{"data": append([]json.RawMessage{}, raw...)})
		return c.printJSON(doc)
	case c.json:
		return c.printJSON(c.rec.last)
	}
	if err := c.emit(func(w io.Writer) { table(w, items) }); err != nil {
		return err
	}
	if !p.all && cursor != "" {
		fmt.Fprintf(c.stderr, "more: --cursor %s (or --all)\n", cursor)
	}
	return nil
}

// progress writes a line of progress to stderr when it is a terminal.
func (c *cli) progress(format string, args ...any) {
	if isTerminal(c.stderr) {
		fmt.Fprintf(c.stderr, "slotwire: "+format+"\n", args...)
	}
}

// isTerminal reports whether a standard stream (an *os.File) is a
// terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
