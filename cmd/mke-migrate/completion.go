package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask the program itself for the candidates, with
// the framework's hidden --generate-bash-completion flag, so they never go
// stale as commands and flags change.
const bashCompletion = `# mke-migrate bash completion: source it, or save it as
# /etc/bash_completion.d/mke-migrate
_mke_migrate_complete() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _mke_migrate_complete mke-migrate
`

const zshCompletion = `#compdef mke-migrate
# mke-migrate zsh completion: save it as _mke-migrate in a folder of $fpath
_mke_migrate() {
  local -a opts
  local cur="${words[-1]}"
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _mke_migrate mke-migrate
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Load it in the current shell, for example:
   source <(mke-migrate completion bash)
   mke-migrate completion fish > ~/.config/fish/completions/mke-migrate.fish`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion needs one argument: bash, zsh or fish")
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				return fprintf(c.App.Writer, "%s", bashCompletion)
			case "zsh":
				return fprintf(c.App.Writer, "%s", zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return failure(err)
				}
				return fprintf(c.App.Writer, "%s", strings.TrimRight(s, "\n")+"\n")
			default:
				return usagef("completion: %q is not bash, zsh or fish", shell)
			}
		},
	}
}
