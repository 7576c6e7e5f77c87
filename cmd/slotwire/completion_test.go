package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCompletionScriptsPrint: each script names every command and every
// flag of each.
func TestCompletionScriptsPrint(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		script := cliCall{}.must(t, "completion", shell)
		for _, cmd := range allCommands() {
			if !strings.Contains(script, "'"+cmd.path()+"'") {
				t.Errorf("%s script lacks the command %q", shell, cmd.path())
			}
			for _, f := range leafFlags(cmd) {
				if len(cmd.subs) == 0 && !strings.Contains(script, "--"+f) && !strings.Contains(script, "-l "+f+" ") {
					t.Errorf("%s script lacks --%s of %s", shell, f, cmd.path())
				}
			}
		}
	}
}

// TestCompletionScriptsParse has each shell that is installed read its
// script (zsh -n, fish -n; bash runs it, below).
func TestCompletionScriptsParse(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"zsh", "fish"} {
		bin, err := exec.LookPath(shell)
		if err != nil {
			t.Logf("%s not installed: its script is not parsed", shell)
			continue
		}
		path := filepath.Join(t.TempDir(), "slotwire."+shell)
		os.WriteFile(path, []byte(cliCall{}.must(t, "completion", shell)), 0o600)
		if out, err := exec.Command(bin, "-n", path).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell, err, out)
		}
	}
}

// TestBashCompletionCompletes runs the bash script's function on command
// lines as bash would.
func TestBashCompletionCompletes(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	path := filepath.Join(t.TempDir(), "slotwire.bash")
	os.WriteFile(path, []byte(cliCall{}.must(t, "completion", "bash")), 0o600)
	for line, want := range map[string]string{
		"slotwire ":             "serve migrate tenant healthcheck bench version tenants keys settings endpoints hooks events deliveries recover event-types stats erasures portal-link listen verify completion",
		"slotwire end":          "endpoints",
		"slotwire endpoints cr": "create",
		"slotwire endpoints r":  "rotate-secret",
		"slotwire endpoints create https://x --ty": "--types",
		"slotwire --profile prod deliveries li":    "list",
		"slotwire deliveries list --status-":       "--status-class",
		"slotwire completion ":                     "bash zsh fish",
		"slotwire verify --pub":                    "--public-key",
		"slotwire serve --delivery-t":              "--delivery-timeout",
		"slotwire tenant create --pl":              "--plan --plans",
		"slotwire endpoints fe":                    "feed-token",
		"slotwire endpoints feed-token ep_1 --d":   "--delete",
		"slotwire hooks create --":                 "--api-key --events --json --profile --target-url --url --help",
		"slotwire erasures create --":              "--api-key --customer-id --email --json --profile --url --help",
		"slotwire settings s":                      "show set",
		"slotwire settings set --s":                "--strict-event-types",
		"slotwire portal-link --":                  "--api-key --json --profile --scopes --ttl --url --help",
		"slotwire healthcheck --":                  "--json --timeout --url --help",
	} {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = shellQuote(w)
		}
		script := "source " + shellQuote(path) + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "\n_slotwire\necho \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command(bash, "--norc", "-c", script).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%q completes to %q (%v), want %q", line, strings.TrimSpace(string(out)), err, want)
		}
	}
}

// TestFishCompletionCompletes asks fish (when installed) what it completes
// on command lines.
func TestFishCompletionCompletes(t *testing.T) {
	t.Parallel()
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish not installed")
	}
	path := filepath.Join(t.TempDir(), "slotwire.fish")
	os.WriteFile(path, []byte(cliCall{}.must(t, "completion", "fish")), 0o600)
	for line, want := range map[string]string{
		"slotwire endpoints cr":                    "create",
		"slotwire endpoints create https://x --ty": "--types",
		"slotwire --profile p deliveries li":       "list",
		"slotwire completion ":                     "bash fish zsh",
		"slotwire erasures cr":                     "create",
		"slotwire endpoints feed-token ep_1 --d":   "--delete",
	} {
		out, err := exec.Command(fish, "--no-config", "-c", "source "+shellQuote(path)+"; complete -C "+shellQuote(line)).CombinedOutput()
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("fish completes %q to %q (%v), want %q", line, got, err, want)
		}
	}
}
