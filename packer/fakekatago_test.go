package packer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The provisioning test packs this test binary into a fake KataGo release zip, as a file
// named katago. Run under that name (or as an extracted AppImage's AppRun), TestMain hands
// over to fakeKatago, which does what the provisioning scripts need from a KataGo release
// (the os/exec helper-process pattern):
//
//   - --appimage-extract: unpack itself like an AppImage (type 2) into ./squashfs-root;
//   - version: print a version banner;
//   - analysis -config FILE -model FILE [-override-config k=v,...]: check the config and
//     the model the way KataGo would refuse them, write the TensorRT timing cache file
//     KataGo's TensorRT backend names after the GPU and nnMaxBatchSize, say it is ready on
//     stderr, then answer each query line on stdin with the first answer recorded from real
//     KataGo in a transcript (env fakeKatagoTranscript), once per analyzed turn: a final
//     result for 01-basic-multi-turn, an error for 04-errors.

// fakeKatagoTranscript names the environment variable holding the path of a recorded
// KataGo session whose first answer to a query is replayed.
const fakeKatagoTranscript = "TESUJI_TEST_KATAGO_TRANSCRIPT"

// fakeKatagoNoCache, set to 1, makes the stand-in skip the TensorRT cache, as a KataGo
// that could not write its homeDataDir would.
const fakeKatagoNoCache = "TESUJI_TEST_KATAGO_NO_CACHE"

// fakeKatagoConfigKeys are the analysis config keys the fake accepts; real KataGo warns
// about keys it does not use, which would hide a misspelt setting.
var fakeKatagoConfigKeys = map[string]bool{
	"homeDataDir": true, "logDir": true, "logAllRequests": true, "logAllResponses": true,
	"logSearchInfo": true, "reportAnalysisWinratesAs": true, "maxVisits": true,
	"numAnalysisThreads": true, "numSearchThreadsPerAnalysisThread": true,
	"nnMaxBatchSize": true, "numNNServerThreadsPerModel": true, "nnCacheSizePowerOfTwo": true,
	"nnMutexPoolSizePowerOfTwo": true, "nnRandomize": true,
}

func fakeKatago(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: katago SUBCOMMAND")
		return 1
	}
	var err error
	switch args[0] {
	case "--appimage-extract":
		err = fakeAppImageExtract(stdout)
	case "version":
		fmt.Fprintln(stdout, "KataGo v1.17.2")
		fmt.Fprintln(stdout, "Git revision: 0000000000000000000000000000000000000000 (test stand-in)")
		fmt.Fprintln(stdout, "Compiled with TensorRT backend")
	case "analysis":
		err = fakeAnalysis(args[1:], stdin, stdout, stderr)
	default:
		err = fmt.Errorf("unknown subcommand %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "katago (test stand-in):", err)
		return 1
	}
	return 0
}

// fakeAppImageExtract lays out ./squashfs-root the way an AppImage built with linuxdeploy
// does: the program under usr/bin and AppRun pointing at it.
func fakeAppImageExtract(stdout io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join("squashfs-root", "usr", "bin"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join("squashfs-root", "usr", "bin", "katago"), data, 0o755); err != nil {
		return err
	}
	if err := os.Symlink("usr/bin/katago", filepath.Join("squashfs-root", "AppRun")); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "squashfs-root/AppRun")
	fmt.Fprintln(stdout, "squashfs-root/usr/bin/katago")
	return nil
}

func fakeAnalysis(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analysis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "")
	modelPath := fs.String("model", "", "")
	override := fs.String("override-config", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" || *modelPath == "" || fs.NArg() != 0 {
		return fmt.Errorf("analysis needs -config and -model, got %q", args)
	}
	cfg, err := readKatagoConfig(*configPath)
	if err != nil {
		return err
	}
	if *override != "" {
		for kv := range strings.SplitSeq(*override, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("bad -override-config entry %q", kv)
			}
			cfg[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for k := range cfg {
		if !fakeKatagoConfigKeys[k] {
			return fmt.Errorf("config key %q is not an analysis setting", k)
		}
	}
	ints := map[string]int{}
	for _, k := range []string{"numAnalysisThreads", "numSearchThreadsPerAnalysisThread", "nnMaxBatchSize", "nnCacheSizePowerOfTwo"} {
		n, err := strconv.Atoi(cfg[k])
		if err != nil || n <= 0 {
			return fmt.Errorf("config %s = %q, want a positive integer", k, cfg[k])
		}
		ints[k] = n
	}
	home, logDir := cfg["homeDataDir"], cfg["logDir"]
	if !filepath.IsAbs(home) || !filepath.IsAbs(logDir) {
		return fmt.Errorf("homeDataDir %q and logDir %q must be absolute", home, logDir)
	}
	model, err := os.ReadFile(*modelPath)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	if !bytes.HasPrefix(model, []byte{0x1f, 0x8b}) {
		return fmt.Errorf("model %s is not gzip", *modelPath)
	}
	response, err := recordedAnswer(os.Getenv(fakeKatagoTranscript))
	if err != nil {
		return err
	}

	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	logLine := fmt.Sprintf("analysis -config %s -model %s -override-config %s\n", *configPath, *modelPath, *override)
	if err := os.WriteFile(filepath.Join(logDir, "fake-katago.log"), []byte(logLine), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "TensorRT backend thread 0: Found GPU Test Stand-in GPU")
	if os.Getenv(fakeKatagoNoCache) != "1" {
		cache := filepath.Join(home, "trtcache")
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return err
		}
		name := fmt.Sprintf("trt-100900_gpu-1a2b3c4d_tune-0123456789ab_max19x19_batch%d_fp16", ints["nnMaxBatchSize"])
		if err := os.WriteFile(filepath.Join(cache, name), []byte("timing cache"), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "Saved new timing cache to "+filepath.Join(cache, name))
	}
	fmt.Fprintln(stderr, "Started, ready to begin handling requests")

	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var q struct {
			ID           *string     `json:"id"`
			Moves        [][2]string `json:"moves"`
			AnalyzeTurns []int       `json:"analyzeTurns"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			fmt.Fprintf(stdout, "{\"error\":\"could not parse input line as json request: %s\"}\n", strings.ReplaceAll(err.Error(), `"`, `'`))
			continue
		}
		if q.ID == nil {
			fmt.Fprintln(stdout, `{"error":"Request must have a string \"id\" field"}`)
			continue
		}
		turns := q.AnalyzeTurns
		if len(turns) == 0 {
			turns = []int{len(q.Moves)}
		}
		id, err := json.Marshal(*q.ID)
		if err != nil {
			return err
		}
		for _, turn := range turns {
			line := recordedID.ReplaceAllLiteralString(response, `"id":`+string(id))
			line = recordedTurn.ReplaceAllLiteralString(line, `"turnNumber":`+strconv.Itoa(turn))
			fmt.Fprintln(stdout, line)
		}
	}
	return sc.Err()
}

var (
	recordedID   = regexp.MustCompile(`"id":"[^"]*"`)
	recordedTurn = regexp.MustCompile(`"turnNumber":\d+`)
)

// readKatagoConfig reads KataGo's "key = value" config format, # starting a comment.
func readKatagoConfig(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected key = value, got %q", path, i+1, line)
		}
		k = strings.TrimSpace(k)
		if _, dup := cfg[k]; dup {
			return nil, fmt.Errorf("%s:%d: key %s set twice", path, i+1, k)
		}
		cfg[k] = strings.TrimSpace(v)
	}
	return cfg, nil
}

// recordedAnswer returns the first line real KataGo wrote in answer to a query in a
// recorded session: a final result (isDuringSearch false) or an error naming a query id.
func recordedAnswer(transcript string) (string, error) {
	if transcript == "" {
		return "", fmt.Errorf("%s is not set", fakeKatagoTranscript)
	}
	data, err := os.ReadFile(transcript)
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		var rec struct {
			Dir  string `json:"dir"`
			Line string `json:"line"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Dir != "out" || !recordedID.MatchString(rec.Line) {
			continue
		}
		final := strings.Contains(rec.Line, `"isDuringSearch":false`) && recordedTurn.MatchString(rec.Line)
		if final || strings.HasPrefix(rec.Line, `{"error":`) {
			return rec.Line, nil
		}
	}
	return "", fmt.Errorf("no answer to a query in %s", transcript)
}
