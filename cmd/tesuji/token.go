package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/server"
)

// tokenFlags choose the token store: Redis when --redis is given, else the SQLite
// database of the embedded default.
type tokenFlags struct {
	redisURL string
	dataDir  string
}

func (f *tokenFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.redisURL, "redis", "", "keep API tokens in this Redis (the one 'tesuji serve --redis' uses); empty: in the database under --data")
	fs.StringVar(&f.dataDir, "data", "", "data directory of 'tesuji serve' when there is no Redis (default: tesuji/ under the user data directory)")
}

// dataFile is the embedded default's database in dir, or in the default data directory.
func dataFile(dir string, getenv func(string) string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = server.DefaultDataDir(getenv); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, server.DataFileName), nil
}

// store opens the token store the flags name, and a description of it for messages.
func (f *tokenFlags) store(ctx context.Context, getenv func(string) string) (api.TokenStore, string, func(), error) {
	if f.redisURL != "" {
		client, err := queue.OpenRedis(f.redisURL)
		if err != nil {
			return nil, "", nil, err
		}
		return api.NewRedisTokens(client, ""), "Redis", func() { client.Close() }, nil
	}
	path, err := dataFile(f.dataDir, getenv)
	if err != nil {
		return nil, "", nil, err
	}
	db, err := queue.OpenSQLiteDB(ctx, path)
	if err != nil {
		return nil, "", nil, err
	}
	return api.NewSQLiteTokens(db), path, func() { db.Close() }, nil
}

func runToken(ctx context.Context, e *env, args []string) error {
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: tesuji token create --name NAME [--redis URL | --data DIR]
       tesuji token list [--redis URL | --data DIR]
       tesuji token revoke ID|NAME [--redis URL | --data DIR]

API tokens let programs and KaTrain use a server that listens beyond localhost. A token is
shown once, when it is created; servers keep only its SHA-256. Send it as
"Authorization: Bearer TOKEN", or as ?token=TOKEN where a client cannot set headers
(KaTrain's remote_url: ws://host:8080/api/v1/katago?token=TOKEN).
`)
	}
	if len(args) == 0 {
		usage(e.stderr)
		return errUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch args[0] {
	case "create":
		return tokenCreate(ctx, e, args[1:])
	case "list":
		return tokenList(ctx, e, args[1:])
	case "revoke":
		return tokenRevoke(ctx, e, args[1:])
	}
	usage(e.stderr)
	return fmt.Errorf("unknown token command %q", args[0])
}

func tokenCreate(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token create", "--name NAME [flags]")
	var tf tokenFlags
	name := fs.String("name", "", "what the token is for (a bot, a site, a person); unique among live tokens")
	operator := fs.Bool("operator", false, "let the token also see the fleet (GET /api/v1/workers)")
	tf.register(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	if *name == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	s, where, done, err := tf.store(ctx, e.getenv)
	if err != nil {
		return err
	}
	defer done()
	var scopes []api.Scope
	if *operator {
		scopes = append(scopes, api.ScopeOperator)
	}
	token, info, err := s.Create(ctx, *name, scopes...)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	fmt.Fprintf(e.stderr, "tesuji: token %q (id %s) created in %s; it is shown only this once\n", info.Name, info.ID, where)
	return nil
}

func tokenList(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token list", "[flags]")
	var tf tokenFlags
	tf.register(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	s, _, done, err := tf.store(ctx, e.getenv)
	if err != nil {
		return err
	}
	defer done()
	infos, err := s.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tSTATUS")
	for _, i := range infos {
		status := "active"
		if i.Revoked() {
			status = "revoked " + i.RevokedAt.Local().Format(time.DateTime)
		}
		scopes := "-"
		for j, s := range i.Scopes {
			if j == 0 {
				scopes = string(s)
			} else {
				scopes += "," + string(s)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.ID, i.Name, scopes, i.CreatedAt.Local().Format(time.DateTime), status)
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token revoke", "ID|NAME [flags]")
	var tf tokenFlags
	tf.register(fs)
	// The token to revoke may come before the flags.
	var target string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		target, args = args[0], args[1:]
	}
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	if target == "" && fs.NArg() == 1 {
		target = fs.Arg(0)
	} else if fs.NArg() > 0 || target == "" {
		fs.Usage()
		return errUsage
	}
	s, _, done, err := tf.store(ctx, e.getenv)
	if err != nil {
		return err
	}
	defer done()
	info, err := s.Revoke(ctx, target)
	if errors.Is(err, api.ErrTokenNotFound) {
		return fmt.Errorf("%w (see 'tesuji token list')", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "tesuji: token %q (id %s) revoked\n", info.Name, info.ID)
	return nil
}
