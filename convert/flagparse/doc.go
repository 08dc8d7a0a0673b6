// Package flagparse tokenises and parses command-line flags the way MKE 3
// stores them in its TOML configuration.
//
// MKE 3 keeps flags in two shapes:
//
//   - lists of strings, one flag per element, for example
//     custom_kube_api_server_flags = ["--feature-gates=A=true", "--audit-log-maxage 30", "--profiling"];
//     use [ParseList];
//   - kubelet profiles, where one string holds several space-separated flags,
//     for example "--kube-reserved=cpu=200m --node-labels \"a=b c\"";
//     use [ParseString] (or [Split] followed by [Parse]).
//
// # Splitting
//
// [Split] follows POSIX shell word splitting, without any expansion: words are
// separated by spaces, tabs, carriage returns and newlines; single quotes keep
// everything literally; inside double quotes a backslash only escapes $, `,
// ", \ and newline; outside quotes a backslash escapes the next character and
// a backslash-newline pair is removed. Quoted and unquoted parts that touch
// form one word, and an empty pair of quotes on its own yields an empty
// word. Variables, globs, '~' and '#' comments are not interpreted, because
// MKE 3 hands the words to the component as they are. An unterminated quote
// or a trailing backslash is an error rather than a guess.
//
// # Flag forms
//
// [Parse] accepts "--name=value", "-name=value", "--name value" and a bare
// "--name" (a boolean flag, [Flag.HasValue] false). Everything after the first
// '=' is the value, so values may contain '=' and ','. The word after a flag
// written without '=' is taken as its value when it does not start with '-'.
//
// Negative numbers: a word that starts with '-', whose second character is a
// digit (or '.' followed by a digit) and that strconv.ParseFloat accepts, such
// as "-999" or "-0.5", is also taken as the value of a preceding flag written
// without '='. This lets "--oom-score-adj -999" work; flag names never look
// like numbers, so nothing valid is lost.
//
// Flag names must start with a letter or digit and contain only letters,
// digits, '-', '_' and '.'. The lone words "-" and "--", three or more
// leading dashes, empty names ("--=v") and words that are neither a flag nor
// the value of one are reported as *[Error], which names the offending word,
// its position and the fix. Order and repetitions are kept: deciding which
// repetition wins is the job of the caller, who knows the flag's type.
//
// Boolean flags: the package does not know which flags a program declares
// boolean, so Parse, ParseString and ParseList read "--profiling next" as
// --profiling with the value "next". ParseListBools and ParseStringBools take
// the program's boolean flags and then follow Kubernetes' flag parser
// (pflag): a bare boolean flag means true and never takes the next word, so
// "--profiling false" leaves "false" a stray argument, reported as an
// *Error; "--profiling=false" is the way to turn one off.
package flagparse
