package queue

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/redis/go-redis/v9"
)

// OpenRedis returns a client for a Redis URL, without connecting (the first command does).
// The forms:
//
//	redis://[user:password@]host[:port][/db][?option=value...]          one node
//	rediss://...                                                       the same over TLS
//	unix://[user:password@]/path/to/redis.sock[?db=N]                   one node on a unix socket
//	redis+sentinel://[user:password@]host:port[,host:port...]/master[/db][?option=value...]
//	rediss+sentinel://...                                              Sentinel, master over TLS
//	redis+cluster://[user:password@]host:port[,host:port...][?option=value...]
//	rediss+cluster://...                                               a Redis Cluster over TLS
//
// The options are go-redis's, in snake case (dial_timeout=3s, pool_size=50, ...). For
// Sentinel the user and password are the sentinels'; the master's are the username and
// password options. A Cluster keeps each job's keys on one slot (see keys.go).
//
// Options override what the URL says (RedisPoolSize).
func OpenRedis(rawURL string, opts ...RedisOption) (redis.UniversalClient, error) {
	var o redisOptions
	for _, opt := range opts {
		opt(&o)
	}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("queue: redis url %q: no scheme (redis://host:port, see tesuji serve --help)", redact(rawURL))
	}
	switch scheme {
	case "redis", "rediss", "unix":
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, urlError(rawURL, err)
		}
		o.pool(&opt.PoolSize)
		return redis.NewClient(opt), nil
	case "redis+sentinel", "rediss+sentinel":
		u, err := multiHostURL(strings.TrimSuffix(scheme, "+sentinel"), rest)
		if err != nil {
			return nil, urlError(rawURL, err)
		}
		path := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
		if len(path) == 0 || len(path) > 2 {
			return nil, fmt.Errorf("queue: redis url %q: want /master-name[/db] after the sentinels", redact(rawURL))
		}
		q := u.Query()
		q.Set("master_name", path[0])
		u.RawQuery = q.Encode()
		u.Path = "/" + strings.Join(path[1:], "/")
		opt, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, urlError(rawURL, err)
		}
		o.pool(&opt.PoolSize)
		return redis.NewFailoverClient(opt), nil
	case "redis+cluster", "rediss+cluster":
		u, err := multiHostURL(strings.TrimSuffix(scheme, "+cluster"), rest)
		if err != nil {
			return nil, urlError(rawURL, err)
		}
		opt, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, urlError(rawURL, err)
		}
		o.pool(&opt.PoolSize)
		return redis.NewClusterClient(opt), nil
	}
	return nil, fmt.Errorf("queue: redis url %q: unknown scheme %q (redis, rediss, unix, redis+sentinel, redis+cluster)", redact(rawURL), scheme)
}

// RedisOption adjusts a client OpenRedis makes.
type RedisOption func(*redisOptions)

type redisOptions struct {
	poolSize int
}

// RedisPoolSize sets the most connections the client keeps (per node, for a Cluster).
func RedisPoolSize(n int) RedisOption { return func(o *redisOptions) { o.poolSize = n } }

func (o redisOptions) pool(size *int) {
	if o.poolSize > 0 {
		*size = o.poolSize
	}
}

// multiHostURL turns "[userinfo@]h1:p1,h2:p2/path?query" into a go-redis URL with the first
// host as host and the others as addr options.
func multiHostURL(scheme, rest string) (*url.URL, error) {
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	hosts := strings.Split(authority, ",")
	if hosts[0] == "" {
		return nil, fmt.Errorf("no host")
	}
	u, err := url.Parse(scheme + "://" + userinfo + hosts[0] + tail)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		if h == "" {
			return nil, fmt.Errorf("empty host in %q", authority)
		}
		q.Add("addr", h)
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// urlError is the error of a Redis URL that did not parse, its passwords hidden. A
// *url.Error repeats the URL it was given, password and all, so only its cause is kept.
func urlError(rawURL string, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return fmt.Errorf("queue: redis url %q: %w", redact(rawURL), err)
}

var passwordOption = regexp.MustCompile(`(password=)[^&]*`)

// redact hides the passwords of a URL that goes into an error message.
func redact(raw string) string {
	raw = passwordOption.ReplaceAllString(raw, "${1}xxxxx")
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		end = i
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
