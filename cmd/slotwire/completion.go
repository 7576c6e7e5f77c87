package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

func completionCmd() *command {
	return &command{name: "completion", usage: "bash|zsh|fish", nargs: 1, choices: "bash zsh fish",
		summary: "print a shell completion script (commands and flags)",
		about: `Print a script that completes slotwire's commands, subcommands and flags in bash, zsh or fish.

  bash:  source <(slotwire completion bash)           (or save it in /etc/bash_completion.d/slotwire)
  zsh:   source <(slotwire completion zsh)            (or save it as _slotwire in a directory of $fpath)
  fish:  slotwire completion fish > ~/.config/fish/completions/slotwire.fish`,
		example: "slotwire completion bash > /etc/bash_completion.d/slotwire\nslotwire completion zsh > \"${fpath[1]}/_slotwire\"",
		setup: func(_ *flag.FlagSet, c *cli) func([]string) error {
			return func(args []string) error {
				nodes := completionNodes(c.root)
				switch args[0] {
				case "bash":
					bashCompletion(c.stdout, nodes)
				case "zsh":
					zshCompletion(c.stdout, nodes)
				case "fish":
					fishCompletion(c.stdout, nodes)
				default:
					return usagef("completion: no script for %q; use bash, zsh or fish", args[0])
				}
				return nil
			}
		}}
}

// compNode is a command path and what may follow it: subcommands (with
// their summaries), or a leaf's flags and fixed arguments.
type compNode struct {
	path  string
	words []compWord
}

type compWord struct {
	word, help string
	value      bool // a flag taking a value
}

// completionNodes lists every command path of the tree with what completes
// after it.
func completionNodes(root *command) []compNode {
	var out []compNode
	var visit func(cmd *command)
	visit = func(cmd *command) {
		n := compNode{path: cmd.path()}
		if len(cmd.subs) > 0 {
			for _, s := range cmd.subs {
				n.words = append(n.words, compWord{word: s.name, help: s.summary})
			}
		} else {
			for _, w := range strings.Fields(cmd.choices) {
				n.words = append(n.words, compWord{word: w})
			}
			fs, _ := cmd.flagSet(&cli{getenv: func(string) string { return "" }})
			fs.VisitAll(func(f *flag.Flag) {
				_, isBool := f.Value.(interface{ IsBoolFlag() bool })
				_, usage := flag.UnquoteUsage(f)
				n.words = append(n.words, compWord{word: "--" + f.Name, help: usage, value: !isBool})
			})
			n.words = append(n.words, compWord{word: "--help", help: "show help"})
		}
		out = append(out, n)
		for _, s := range cmd.subs {
			visit(s)
		}
	}
	visit(root)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// paths are the command paths, quoted for a shell's case pattern.
func paths(nodes []compNode) []string {
	var ps []string
	for _, n := range nodes {
		if n.path != "" {
			ps = append(ps, shellQuote(n.path))
		}
	}
	return ps
}

// wordList is what completes after a path: its flags (for a word starting
// with "-") or its other words.
func wordList(n compNode, flags bool) string {
	var ws []string
	for _, w := range n.words {
		if strings.HasPrefix(w.word, "-") == flags {
			ws = append(ws, w.word)
		}
	}
	return strings.Join(ws, " ")
}

// shellQuote single-quotes s for sh, bash, zsh and fish.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote single-quotes s for fish, where \ and ' are escaped.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// firstSentence shortens a flag's usage for a completion menu.
func firstSentence(s string) string {
	if i := strings.IndexAny(s, ";("); i > 0 {
		s = s[:i]
	}
	return truncate(strings.TrimSpace(s), 70)
}

func bashCompletion(w io.Writer, nodes []compNode) {
	fmt.Fprint(w, `# bash completion of slotwire: source <(slotwire completion bash)
_slotwire() {
    local cur="${COMP_WORDS[COMP_CWORD]}" path="" cand w i
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        cand="${path:+$path }$w"
        case "$cand" in
            `+strings.Join(paths(nodes), "|")+`) path="$cand" ;;
        esac
    done
    local words="" flags=""
    case "$path" in
`)
	for _, n := range nodes {
		fmt.Fprintf(w, "        %s) words=%s flags=%s ;;\n", shellQuote(n.path), shellQuote(wordList(n, false)), shellQuote(wordList(n, true)))
	}
	fmt.Fprint(w, `    esac
    [[ "$cur" == -* ]] && words="$flags"
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _slotwire slotwire
`)
}

func zshCompletion(w io.Writer, nodes []compNode) {
	fmt.Fprint(w, `#compdef slotwire
# zsh completion of slotwire: source <(slotwire completion zsh), or save as _slotwire in $fpath
_slotwire() {
    local p="" cand w
    local -a described flags
    for w in "${(@)words[2,CURRENT-1]}"; do
        cand="${p:+$p }$w"
        case "$cand" in
            (`+strings.Join(paths(nodes), "|")+`) p="$cand" ;;
        esac
    done
    case "$p" in
`)
	for _, n := range nodes {
		var words, flags []string
		for _, cw := range n.words {
			item := shellQuote(strings.ReplaceAll(cw.word, ":", `\:`) + ":" + firstSentence(cw.help))
			if strings.HasPrefix(cw.word, "-") {
				flags = append(flags, item)
			} else {
				words = append(words, item)
			}
		}
		fmt.Fprintf(w, "        (%s) described=(%s) flags=(%s) ;;\n", shellQuote(n.path), strings.Join(words, " "), strings.Join(flags, " "))
	}
	fmt.Fprint(w, `    esac
    [[ "$PREFIX" == -* ]] && described=("${flags[@]}")
    _describe -t commands 'slotwire' described
}
if [ "$funcstack[1]" = "_slotwire" ]; then
    _slotwire "$@"
else
    compdef _slotwire slotwire
fi
`)
}

func fishCompletion(w io.Writer, nodes []compNode) {
	quoted := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if n.path != "" {
			quoted = append(quoted, fishQuote(n.path))
		}
	}
	fmt.Fprintf(w, `# fish completion of slotwire: slotwire completion fish > ~/.config/fish/completions/slotwire.fish
function __slotwire_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l p ""
    for w in $tokens
        set -l cand (string trim -- "$p $w")
        if contains -- $cand %s
            set p $cand
        end
    end
    echo $p
end
function __slotwire_at
    set -l p (__slotwire_path)
    test "$p" = "$argv[1]"
end
complete -c slotwire -f
`, strings.Join(quoted, " "))
	for _, n := range nodes {
		cond := fishQuote("__slotwire_at " + fishQuote(n.path))
		for _, cw := range n.words {
			desc := fishQuote(firstSentence(cw.help))
			switch name, isFlag := strings.CutPrefix(cw.word, "--"); {
			case isFlag && cw.value:
				fmt.Fprintf(w, "complete -c slotwire -n %s -l %s -r -d %s\n", cond, name, desc)
			case isFlag:
				fmt.Fprintf(w, "complete -c slotwire -n %s -l %s -d %s\n", cond, name, desc)
			default:
				fmt.Fprintf(w, "complete -c slotwire -n %s -a %s -d %s\n", cond, fishQuote(cw.word), desc)
			}
		}
	}
}
