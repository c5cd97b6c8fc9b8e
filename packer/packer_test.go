package packer

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/katago/transcript"
	"github.com/tesuji/tesuji/packer/internal/fakeec2"
)

func TestMain(m *testing.M) {
	// The provisioning test installs this binary as KataGo: see fakekatago_test.go. Run
	// from an extracted AppImage it is called by its AppRun link.
	if name := filepath.Base(os.Args[0]); name == "katago" || name == "AppRun" {
		os.Exit(fakeKatago(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The fake release, the network and the recorded session the provisioning tests serve.
const (
	katagoVersion = "v1.17.2"
	katagoZipName = "katago-v1.17.2-trt10.9.0-cuda12.8-linux-x64.zip"
	networkName   = "g170-b6c96-s175395328-d26788732.bin.gz"
)

// packerDir is the directory of this package: go test runs tests there.
func packerDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "worker.pkr.hcl")); err != nil {
		t.Fatalf("packer: tests must run in packer/: %v", err)
	}
	return dir
}

// repoRoot walks up from the package directory to go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir := packerDir(t)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("packer: go.mod not found above the package directory")
		}
		dir = parent
	}
}

// standInNetwork is what the provisioning tests serve as the network: a gzip stream, as
// the stand-in KataGo checks, whose contents nothing reads.
func standInNetwork(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(bytes.Repeat([]byte("a stand-in for a KataGo network\n"), 1024)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// requireTool fails (never skips) when a program the checks drive is not installed.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("packer: %s not found on PATH: install the Debian package %s (make test does)", name, debianPackage)
	}
	return p
}

// testContext ends shortly before the test binary's deadline, so a hung child process
// fails its test with its output instead of killing the whole binary.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-10*time.Second))
		t.Cleanup(cancel)
	}
	return ctx
}

// baseEnv is this process's environment without the settings the scripts and tools under
// test read, so that a developer's shell cannot change what a test sees.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TESUJI_") || strings.HasPrefix(k, "PKR_VAR_") ||
			strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "PACKER_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

type result struct {
	stdout, stderr string
	err            error
}

func run(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(testContext(t), name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var hex64 = strings.Repeat("0123456789abcdef", 4)

func TestTemplateIsFormatted(t *testing.T) {
	t.Parallel()
	packer := requireTool(t, "packer", "packer")
	r := run(t, packerDir(t), append(baseEnv(), "CHECKPOINT_DISABLE=1"), packer, "fmt", "-check", "-diff", ".")
	if r.err != nil {
		t.Fatalf("packer fmt -check: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
}

func TestTemplateValidates(t *testing.T) {
	t.Parallel()
	packer := requireTool(t, "packer", "packer")
	binary := filepath.Join(t.TempDir(), "tesuji")
	if err := os.WriteFile(binary, []byte("tesuji"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		vars    []string
		wantErr string
	}{
		{
			name: "required variables only",
			vars: []string{"katago_sha256=" + hex64, "network_sha256=" + hex64, "tesuji_binary=" + binary},
		},
		{
			name: "every variable overridden",
			vars: []string{
				"katago_sha256=" + hex64, "network_sha256=" + hex64, "tesuji_binary=" + binary,
				"region=eu-west-1", "instance_type=g5.xlarge", "volume_size=120",
				"volume_throughput=250", "volume_iops=4000", "cuda_version=12.5",
				"tensorrt_version=10.2.0.19-1+cuda12.5", "katago_version=v1.16.3",
				"katago_build=trt10.2.0-cuda12.5", "katago_url=https://example.com/katago.zip",
				"network_url=https://example.com/net.bin.gz", "ami_name_prefix=tesuji-test",
				`ssh_source_cidrs=["198.51.100.0/24"]`, "warmup_timeout=600",
				"base_ami_name=Deep Learning Base GPU AMI (Ubuntu 22.04) *", "base_ami_owner=amazon",
			},
		},
		{
			name:    "network sha256 missing",
			vars:    []string{"katago_sha256=" + hex64, "tesuji_binary=" + binary},
			wantErr: `Unset variable "network_sha256"`,
		},
		{
			name:    "katago sha256 missing",
			vars:    []string{"network_sha256=" + hex64, "tesuji_binary=" + binary},
			wantErr: `Unset variable "katago_sha256"`,
		},
		{
			name:    "network sha256 upper case",
			vars:    []string{"katago_sha256=" + hex64, "network_sha256=" + strings.ToUpper(hex64), "tesuji_binary=" + binary},
			wantErr: "network_sha256 value must be 64 lower-case hex digits",
		},
		{
			name:    "katago sha256 too short",
			vars:    []string{"katago_sha256=" + hex64[:63], "network_sha256=" + hex64, "tesuji_binary=" + binary},
			wantErr: "katago_sha256 value must be 64 lower-case hex digits",
		},
		{
			name:    "tesuji binary missing",
			vars:    []string{"katago_sha256=" + hex64, "network_sha256=" + hex64, "tesuji_binary=" + binary + ".absent"},
			wantErr: "no such file or directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"validate"}
			for _, v := range tt.vars {
				args = append(args, "-var", v)
			}
			args = append(args, ".")
			// A fresh HOME keeps Packer's own files out of the developer's.
			env := append(baseEnv(), "CHECKPOINT_DISABLE=1", "HOME="+t.TempDir())
			r := run(t, packerDir(t), env, packer, args...)
			out := r.stdout + r.stderr
			switch {
			case tt.wantErr == "" && r.err != nil:
				t.Fatalf("packer validate: %v\n%s", r.err, out)
			case tt.wantErr != "" && r.err == nil:
				t.Fatalf("packer validate succeeded, want an error containing %q\n%s", tt.wantErr, out)
			case tt.wantErr != "" && !strings.Contains(strings.Join(strings.Fields(out), " "), tt.wantErr):
				t.Fatalf("packer validate output lacks %q:\n%s", tt.wantErr, out)
			}
		})
	}
}

// TestTemplateNamesNoNetworkOrCredential keeps the template free of what ties a build to
// one account's network or leaks a secret into the repository.
func TestTemplateNamesNoNetworkOrCredential(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(packerDir(t), "worker.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	forbidden := regexp.MustCompile(`(?m)^\s*(subnet_id|subnet_filter|vpc_id|vpc_filter|security_group_ids?|security_group_filter|access_key|secret_key|token|profile|iam_instance_profile|source_ami)\s*[={]`)
	if m := forbidden.FindAllString(string(data), -1); len(m) > 0 {
		t.Errorf("worker.pkr.hcl sets %q", m)
	}
	for _, want := range []string{"source_ami_filter {", `volume_type           = "gp3"`, "throughput", "iops"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("worker.pkr.hcl lacks %q", want)
		}
	}
	if regexp.MustCompile(`ami-[0-9a-f]{8,}`).Match(data) {
		t.Error("worker.pkr.hcl names an AMI id; the base image must come from source_ami_filter")
	}
}

func TestScriptsPassShellcheck(t *testing.T) {
	t.Parallel()
	shellcheck := requireTool(t, "shellcheck", "shellcheck")
	dir := packerDir(t)
	var scripts []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".sh") {
			rel, err := filepath.Rel(dir, p)
			scripts = append(scripts, rel)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ami.sh", "scripts/provision.sh", "scripts/lib.sh", "scripts/katago-config.sh", "scripts/warmup.sh"} {
		if !slices.Contains(scripts, want) {
			t.Fatalf("script %s not found among %q", want, scripts)
		}
	}
	r := run(t, dir, baseEnv(), shellcheck, append([]string{"--external-sources", "--severity=style"}, scripts...)...)
	if r.err != nil {
		t.Fatalf("shellcheck: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
}

// image is what the end-to-end test serves and installs.
type image struct {
	binary     []byte // the tesuji binary handed to the build
	katagoZip  []byte
	network    []byte
	server     *httptest.Server
	buildDir   string // where Packer would have uploaded the binary and the unit
	transcript string
}

// appImageMagic marks an ELF file as a type 2 AppImage: bytes 8-10 of the header, which
// the kernel ignores.
var appImageMagic = []byte{'A', 'I', 0x02}

// fakeRelease zips this test binary as KataGo, marked as an AppImage or not, with the
// files a release carries beside it.
func fakeRelease(t *testing.T, appImage bool) []byte {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		t.Fatalf("test binary %s is not ELF", self)
	}
	if appImage {
		copy(bin[8:11], appImageMagic)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"katago-" + katagoVersion + "/katago", bin, 0o755},
		{"katago-" + katagoVersion + "/README.txt", []byte("KataGo " + katagoVersion + "\n"), 0o644},
		{"katago-" + katagoVersion + "/analysis_example.cfg", []byte("maxVisits = 500\n"), 0o644},
	}
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Store}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newImage(t *testing.T, appImage bool) *image {
	t.Helper()
	img := &image{
		binary:     []byte("#!/bin/sh\necho \"tesuji stand-in $*\"\n"),
		katagoZip:  fakeRelease(t, appImage),
		network:    standInNetwork(t),
		buildDir:   t.TempDir(),
		transcript: transcript.File(t, "01"),
	}
	files := t.TempDir()
	for name, data := range map[string][]byte{katagoZipName: img.katagoZip, networkName: img.network} {
		if err := os.WriteFile(filepath.Join(files, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img.server = httptest.NewServer(http.FileServer(http.Dir(files)))
	t.Cleanup(img.server.Close)

	unit, err := os.ReadFile(filepath.Join(packerDir(t), "tesuji-worker.service"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(img.buildDir, "tesuji"), img.binary, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(img.buildDir, "tesuji-worker.service"), unit, 0o644); err != nil {
		t.Fatal(err)
	}
	return img
}

// env is what Packer passes to provision.sh, pointed at the throwaway root and the local
// server, with the GPU, apt and user steps switched off.
func (img *image) env(root string, overrides ...string) []string {
	env := append(baseEnv(),
		"TESUJI_ROOT="+root,
		"TESUJI_BUILD_DIR="+img.buildDir,
		"TESUJI_INSTANCE_TYPE=g4dn.xlarge",
		"TESUJI_CUDA_VERSION=12.8",
		"TESUJI_TENSORRT_VERSION=10.9.0.34-1+cuda12.8",
		"TESUJI_KATAGO_URL="+img.server.URL+"/"+katagoZipName,
		"TESUJI_KATAGO_SHA256="+sha256Hex(img.katagoZip),
		"TESUJI_NETWORK_URL="+img.server.URL+"/"+networkName,
		"TESUJI_NETWORK_SHA256="+sha256Hex(img.network),
		"TESUJI_WARMUP_TIMEOUT=60",
		"TESUJI_SKIP_PACKAGES=1",
		"TESUJI_SKIP_GPU=1",
		"TESUJI_SKIP_USER=1",
		fakeKatagoTranscript+"="+img.transcript,
	)
	// Later entries win in os/exec.
	return append(env, overrides...)
}

func (img *image) provision(t *testing.T, root string, overrides ...string) result {
	t.Helper()
	return run(t, root, img.env(root, overrides...), "bash", filepath.Join(packerDir(t), "scripts", "provision.sh"))
}

// tree lists every file, directory and symlink under root: "path/ " for directories,
// "path -> target" for links, "path mode" for files.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" -> "+target)
		case d.IsDir():
			out = append(out, rel+"/")
		default:
			info, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s %#o", rel, info.Mode().Perm()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantConfig is katago.cfg's settings for an instance type, as readKatagoConfig reads them.
func wantConfig(analysis, search, batch, cache string) map[string]string {
	return map[string]string{
		"homeDataDir":                       "/var/lib/tesuji/katago",
		"logDir":                            "/var/lib/tesuji/katago/logs",
		"logAllRequests":                    "false",
		"logAllResponses":                   "false",
		"logSearchInfo":                     "false",
		"reportAnalysisWinratesAs":          "BLACK",
		"maxVisits":                         "500",
		"numAnalysisThreads":                analysis,
		"numSearchThreadsPerAnalysisThread": search,
		"nnMaxBatchSize":                    batch,
		"numNNServerThreadsPerModel":        "1",
		"nnCacheSizePowerOfTwo":             cache,
		"nnMutexPoolSizePowerOfTwo":         "17",
		"nnRandomize":                       "true",
	}
}

// TestProvisionEndToEnd runs provision.sh, the script Packer runs on the build instance,
// into a throwaway root and checks every file the image should have, then verifies the
// installed unit with systemd-analyze.
func TestProvisionEndToEnd(t *testing.T) {
	t.Parallel()
	requireTool(t, "curl", "curl")
	requireTool(t, "unzip", "unzip")
	requireTool(t, "systemctl", "systemd")
	tests := []struct {
		name     string
		appImage bool
		wantTree []string // what differs between the kinds of release
	}{
		{
			name:     "AppImage release",
			appImage: true,
			wantTree: []string{
				"opt/katago/appimage/",
				"opt/katago/appimage/AppRun -> usr/bin/katago",
				"opt/katago/appimage/usr/",
				"opt/katago/appimage/usr/bin/",
				"opt/katago/appimage/usr/bin/katago 0755",
				"opt/katago/katago 0755",
			},
		},
		{
			name:     "plain binary release",
			appImage: false,
			wantTree: []string{"opt/katago/katago 0755"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img := newImage(t, tt.appImage)
			root := t.TempDir()
			// A base image has a machine id; the image must leave it empty.
			if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "etc", "machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o444); err != nil {
				t.Fatal(err)
			}

			r := img.provision(t, root)
			if r.err != nil {
				t.Fatalf("provision.sh: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
			}

			wantTree := append([]string{
				"etc/",
				"etc/machine-id 0444",
				"etc/systemd/",
				"etc/systemd/system/",
				"etc/systemd/system/multi-user.target.wants/",
				"etc/systemd/system/multi-user.target.wants/tesuji-worker.service -> /etc/systemd/system/tesuji-worker.service",
				"etc/systemd/system/tesuji-worker.service 0644",
				"etc/tesuji/",
				"etc/tesuji/defaults.env 0644",
				"etc/tesuji/katago.cfg 0644",
				"opt/",
				"opt/katago/",
				"opt/katago/SOURCES 0644",
				"opt/katago/model.bin.gz 0644",
				"opt/katago/release/",
				"opt/katago/release/README.txt 0644",
				"opt/katago/release/analysis_example.cfg 0644",
				"usr/",
				"usr/local/",
				"usr/local/bin/",
				"usr/local/bin/tesuji 0755",
				"usr/local/lib/",
				"usr/local/lib/tesuji/",
				"usr/local/lib/tesuji/katago-config.sh 0755",
				"var/",
				"var/lib/",
				"var/lib/tesuji/",
				"var/lib/tesuji/katago/",
				"var/lib/tesuji/katago/logs/",
				"var/lib/tesuji/katago/logs/fake-katago.log 0644",
				"var/lib/tesuji/katago/trtcache/",
				"var/lib/tesuji/katago/trtcache/trt-100900_gpu-1a2b3c4d_tune-0123456789ab_max19x19_batch32_fp16 0644",
				"var/lib/tesuji/katago/warmup.log 0640",
			}, tt.wantTree...)
			slices.Sort(wantTree)
			if diff := cmp.Diff(wantTree, tree(t, root)); diff != "" {
				t.Errorf("image tree (-want +got):\n%s", diff)
			}

			checks := []struct{ path, want string }{
				{"usr/local/bin/tesuji", string(img.binary)},
				{"opt/katago/model.bin.gz", string(img.network)},
				{"etc/machine-id", ""},
				{"etc/systemd/system/tesuji-worker.service", readFile(t, filepath.Join(packerDir(t), "tesuji-worker.service"))},
				{"usr/local/lib/tesuji/katago-config.sh", readFile(t, filepath.Join(packerDir(t), "scripts", "katago-config.sh"))},
				{"etc/tesuji/defaults.env", "# Written when the image was built. /etc/tesuji/worker.env, written by the launch\n" +
					"# template's user data, is read after this file and wins.\n" +
					"TESUJI_KATAGO=/opt/katago/katago\n" +
					"TESUJI_MODEL=/opt/katago/model.bin.gz\n" +
					"TESUJI_KATAGO_HOME=/var/lib/tesuji/katago\n"},
				{"opt/katago/SOURCES", "# Where this image's KataGo and network came from, as checked at build time.\n" +
					"katago_url=" + img.server.URL + "/" + katagoZipName + "\n" +
					"katago_sha256=" + sha256Hex(img.katagoZip) + "\n" +
					"network_url=" + img.server.URL + "/" + networkName + "\n" +
					"network_sha256=" + sha256Hex(img.network) + "\n"},
				{"opt/katago/release/README.txt", "KataGo " + katagoVersion + "\n"},
			}
			for _, c := range checks {
				if diff := cmp.Diff(c.want, readFile(t, filepath.Join(root, c.path))); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.path, diff)
				}
			}

			cfg, err := readKatagoConfig(filepath.Join(root, "etc", "tesuji", "katago.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantConfig("8", "4", "32", "20"), cfg); diff != "" {
				t.Errorf("katago.cfg (-want +got):\n%s", diff)
			}
			if !strings.Contains(readFile(t, filepath.Join(root, "etc", "tesuji", "katago.cfg")), "\n# instance_type = g4dn.xlarge\n") {
				t.Error("katago.cfg does not record the instance type it was tuned for")
			}

			// The warm-up ran the installed KataGo with the installed config and network.
			wantRun := fmt.Sprintf("analysis -config %s -model %s -override-config homeDataDir=%s,logDir=%s\n",
				filepath.Join(root, "etc/tesuji/katago.cfg"), filepath.Join(root, "opt/katago/model.bin.gz"),
				filepath.Join(root, "var/lib/tesuji/katago"), filepath.Join(root, "var/lib/tesuji/katago/logs"))
			if diff := cmp.Diff(wantRun, readFile(t, filepath.Join(root, "var/lib/tesuji/katago/logs/fake-katago.log"))); diff != "" {
				t.Errorf("warm-up invocation (-want +got):\n%s", diff)
			}
			if log := readFile(t, filepath.Join(root, "var/lib/tesuji/katago/warmup.log")); !strings.Contains(log, "Started, ready to begin handling requests") {
				t.Errorf("warmup.log lacks KataGo's ready line:\n%s", log)
			}
			if !strings.Contains(r.stderr, "warm-up answered 5 turns") {
				t.Errorf("provision.sh did not report the warm-up's results:\n%s", r.stderr)
			}
			// Then the installed tesuji measured the worker's settings with the same
			// KataGo, network and KataGo home directory (the stand-in echoes its arguments).
			wantTune := fmt.Sprintf("worker settings: tesuji stand-in katago tune --gpus 1 --katago %s --model %s --katago-home %s --log-level warn\n",
				filepath.Join(root, "opt/katago/katago"), filepath.Join(root, "opt/katago/model.bin.gz"), filepath.Join(root, "var/lib/tesuji/katago"))
			if !strings.Contains(r.stderr, wantTune) {
				t.Errorf("provision.sh did not run tesuji katago tune as %q:\n%s", wantTune, r.stderr)
			}

			// The installed KataGo runs, through the AppImage's AppRun where there is one.
			v := run(t, root, baseEnv(), filepath.Join(root, "opt", "katago", "katago"), "version")
			if v.err != nil || !strings.HasPrefix(v.stdout, "KataGo "+katagoVersion+"\n") {
				t.Errorf("installed katago version = %q, %v (stderr %q)", v.stdout, v.err, v.stderr)
			}

			if err := verifyUnit(t, root); err != nil {
				t.Error(err)
			}
		})
	}
}

// verifyUnit runs systemd-analyze verify on the unit as installed under root. The host's
// system units are copied in first, because verify follows the unit's dependencies
// (multi-user.target, network-online.target) through the root. verify reports unknown keys
// and bad values as warnings with exit status 0, so any line naming the unit is an error.
func verifyUnit(t *testing.T, root string) error {
	t.Helper()
	analyze := requireTool(t, "systemd-analyze", "systemd")
	copyHostUnits(t, root)
	r := run(t, root, baseEnv(), analyze, "verify", "--root="+root, "/etc/systemd/system/tesuji-worker.service")
	var complaints []string
	for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.Contains(line, "tesuji-worker") {
			complaints = append(complaints, line)
		}
	}
	if r.err != nil || len(complaints) > 0 {
		return fmt.Errorf("systemd-analyze verify: %v\n%s", r.err, strings.Join(complaints, "\n"))
	}
	return nil
}

func copyHostUnits(t *testing.T, root string) {
	t.Helper()
	hostUnits := ""
	for _, d := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(filepath.Join(d, "multi-user.target")); err == nil {
			hostUnits = d
			break
		}
	}
	if hostUnits == "" {
		t.Fatal("packer: no system units in /usr/lib/systemd/system: install the Debian package systemd")
	}
	dst := filepath.Join(root, "usr", "lib", "systemd", "system")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(hostUnits)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src := filepath.Join(hostUnits, e.Name())
		if info, err := os.Stat(src); err != nil || !info.Mode().IsRegular() {
			continue // dangling links and .wants directories are not needed
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnitVerifyCatchesMistakes makes sure verifyUnit fails on the mistakes it is there
// to catch, so that a clean verify of the real unit means something.
func TestUnitVerifyCatchesMistakes(t *testing.T) {
	t.Parallel()
	unit := readFile(t, filepath.Join(packerDir(t), "tesuji-worker.service"))
	tests := []struct {
		name, from, to string
	}{
		{"unchanged", "", ""},
		{"misspelt key", "RestartSec=5s", "RestartSecs=5s"},
		{"bad restart value", "Restart=on-failure", "Restart=on-failures"},
		{"missing binary", "ExecStart=/usr/local/bin/tesuji worker", "ExecStart=/usr/local/bin/tesuji-absent worker"},
		{"relative path", "ExecStartPre=+/usr/local/lib/tesuji/katago-config.sh --boot", "ExecStartPre=+katago-config.sh --boot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(unit, tt.from) {
				t.Fatalf("unit lacks %q", tt.from)
			}
			root := t.TempDir()
			for _, f := range []struct {
				path, data string
				mode       os.FileMode
			}{
				{"etc/systemd/system/tesuji-worker.service", strings.Replace(unit, tt.from, tt.to, 1), 0o644},
				{"usr/local/bin/tesuji", "#!/bin/sh\n", 0o755},
				{"usr/local/lib/tesuji/katago-config.sh", "#!/bin/sh\n", 0o755},
			} {
				p := filepath.Join(root, f.path)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
					t.Fatal(err)
				}
			}
			err := verifyUnit(t, root)
			if tt.from == "" && err != nil {
				t.Errorf("verify rejected the unit as written: %v", err)
			}
			if tt.from != "" && err == nil {
				t.Errorf("verify accepted a unit with a %s", tt.name)
			}
		})
	}
}

// TestProvisionRejectsBadDownloads: a wrong checksum or a failed download stops the build
// and leaves nothing behind that a later step could use.
func TestProvisionRejectsBadDownloads(t *testing.T) {
	t.Parallel()
	requireTool(t, "curl", "curl")
	requireTool(t, "unzip", "unzip")
	img := newImage(t, true)
	fileDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(fileDir, networkName), img.network, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       []string
		wantErr   string // in stderr; empty means success
		wantFiles []string
		noFiles   []string
	}{
		{
			name:    "wrong KataGo sha256",
			env:     []string{"TESUJI_KATAGO_SHA256=" + hex64},
			wantErr: "sha256 mismatch for " + img.server.URL + "/" + katagoZipName + ": want " + hex64 + ", got " + sha256Hex(img.katagoZip),
			noFiles: []string{"opt/katago/katago", "opt/katago/model.bin.gz"},
		},
		{
			name:    "wrong network sha256",
			env:     []string{"TESUJI_NETWORK_SHA256=" + hex64},
			wantErr: "sha256 mismatch for " + img.server.URL + "/" + networkName,
			noFiles: []string{"opt/katago/model.bin.gz", "opt/katago/model.bin.gz.part", "etc/tesuji/katago.cfg"},
		},
		{
			name:    "malformed sha256",
			env:     []string{"TESUJI_NETWORK_SHA256=" + strings.ToUpper(sha256Hex(img.network))},
			wantErr: "must be 64 lower-case hex digits",
			noFiles: []string{"opt/katago/model.bin.gz"},
		},
		{
			name:    "missing sha256",
			env:     []string{"TESUJI_KATAGO_SHA256="},
			wantErr: "TESUJI_KATAGO_SHA256 must be set",
			noFiles: []string{"opt/katago/katago"},
		},
		{
			name:    "release not found",
			env:     []string{"TESUJI_KATAGO_URL=" + img.server.URL + "/katago-absent.zip"},
			wantErr: "download of " + img.server.URL + "/katago-absent.zip failed",
			noFiles: []string{"opt/katago/katago"},
		},
		{
			name:      "network from a file URL",
			env:       []string{"TESUJI_NETWORK_URL=file://" + filepath.Join(fileDir, networkName)},
			wantFiles: []string{"opt/katago/model.bin.gz", "etc/tesuji/katago.cfg"},
		},
		{
			name:    "KataGo that cannot start",
			env:     []string{fakeKatagoTranscript + "=" + filepath.Join(fileDir, "absent.jsonl")},
			wantErr: "katago analysis failed or ran past 60s",
		},
		{
			name:    "KataGo that answers with an error",
			env:     []string{fakeKatagoTranscript + "=" + transcript.File(t, "04")},
			wantErr: "expected 5 final results for the warm-up query, got 0",
		},
		{
			name:    "KataGo that leaves no TensorRT cache",
			env:     []string{fakeKatagoNoCache + "=1"},
			wantErr: "no TensorRT timing cache for batch size 32 under /var/lib/tesuji/katago/trtcache",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			r := img.provision(t, root, tt.env...)
			switch {
			case tt.wantErr == "" && r.err != nil:
				t.Fatalf("provision.sh: %v\n%s", r.err, r.stderr)
			case tt.wantErr != "" && r.err == nil:
				t.Fatalf("provision.sh succeeded, want a failure mentioning %q\n%s", tt.wantErr, r.stderr)
			case tt.wantErr != "" && !strings.Contains(r.stderr, tt.wantErr):
				t.Fatalf("provision.sh stderr lacks %q:\n%s", tt.wantErr, r.stderr)
			}
			for _, f := range tt.wantFiles {
				if _, err := os.Stat(filepath.Join(root, f)); err != nil {
					t.Errorf("%s missing: %v", f, err)
				}
			}
			for _, f := range tt.noFiles {
				if _, err := os.Lstat(filepath.Join(root, f)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s exists after the failure (%v)", f, err)
				}
			}
		})
	}
}

// configScript runs katago-config.sh against root with the given environment.
func configScript(t *testing.T, root string, env []string, args ...string) result {
	t.Helper()
	env = append(baseEnv(), append([]string{"TESUJI_ROOT=" + root}, env...)...)
	return run(t, root, env, "bash", append([]string{filepath.Join(packerDir(t), "scripts", "katago-config.sh")}, args...)...)
}

func TestKatagoConfigPerInstanceType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		instanceType string
		want         map[string]string
		wantGPU      string
	}{
		{"g4dn.xlarge", wantConfig("8", "4", "32", "20"), "NVIDIA T4 16 GB"},
		{"g4dn.12xlarge", wantConfig("8", "4", "32", "20"), "NVIDIA T4 16 GB"},
		{"g5.2xlarge", wantConfig("12", "4", "48", "20"), "NVIDIA A10G 24 GB"},
		{"g6.xlarge", wantConfig("12", "4", "48", "20"), "NVIDIA L4 24 GB"},
		{"g6e.xlarge", wantConfig("16", "4", "64", "21"), "NVIDIA L40S 48 GB"},
		{"p3.2xlarge", wantConfig("12", "4", "48", "21"), "NVIDIA V100 16 GB"},
		{"p4d.24xlarge", wantConfig("16", "4", "64", "22"), "NVIDIA A100"},
		{"p5.48xlarge", wantConfig("24", "4", "96", "22"), "NVIDIA H100/H200"},
		{"m7i.large", wantConfig("8", "4", "32", "20"), "unknown (conservative defaults)"},
	}
	for _, tt := range tests {
		t.Run(tt.instanceType, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			r := configScript(t, root, []string{"TESUJI_INSTANCE_TYPE=" + tt.instanceType})
			if r.err != nil {
				t.Fatalf("katago-config.sh: %v\n%s", r.err, r.stderr)
			}
			path := filepath.Join(root, "etc", "tesuji", "katago.cfg")
			cfg, err := readKatagoConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg); diff != "" {
				t.Errorf("katago.cfg (-want +got):\n%s", diff)
			}
			text := readFile(t, path)
			for _, want := range []string{"\n# instance_type = " + tt.instanceType + "\n", "\n# gpu = " + tt.wantGPU + "\n"} {
				if !strings.Contains(text, want) {
					t.Errorf("katago.cfg lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestKatagoConfigRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"shell in the type", []string{"TESUJI_INSTANCE_TYPE=g4dn.xlarge;reboot"}, nil, "is not an EC2 instance type"},
		{"newline in the type", []string{"TESUJI_INSTANCE_TYPE=g4dn.xlarge\nnnMaxBatchSize = 1"}, nil, "is not an EC2 instance type"},
		{"unknown argument", []string{"TESUJI_INSTANCE_TYPE=g4dn.xlarge"}, []string{"--reboot"}, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			r := configScript(t, root, tt.env, tt.args...)
			if r.err == nil || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("katago-config.sh = %v, stderr %q; want a failure mentioning %q", r.err, r.stderr, tt.want)
			}
			if _, err := os.Stat(filepath.Join(root, "etc", "tesuji", "katago.cfg")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("katago.cfg written despite the failure (%v)", err)
			}
		})
	}
}

// fakeIMDS answers the two IMDSv2 requests katago-config.sh makes, and refuses the
// metadata request without a valid session token the way EC2 does when IMDSv2 is required.
type fakeIMDS struct {
	instanceType string
	mu           sync.Mutex
	requests     []string
}

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	const token = "AQAEAFakeSessionToken=="
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "missing ttl", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, token)
	case r.Method == http.MethodGet && r.URL.Path == "/latest/meta-data/instance-type":
		if r.Header.Get("X-aws-ec2-metadata-token") != token {
			http.Error(w, "", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, f.instanceType)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeIMDS) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// TestKatagoConfigAtBoot: the unit's ExecStartPre keeps the built config (and the TensorRT
// cache made for it) when the instance type is the build's, and re-tunes when the fleet
// launched the image elsewhere.
func TestKatagoConfigAtBoot(t *testing.T) {
	t.Parallel()
	const marker = "# untouched since the build\n"
	imdsv2 := []string{"PUT /latest/api/token", "GET /latest/meta-data/instance-type"}
	tests := []struct {
		name         string
		noConfig     bool
		imdsDown     bool
		instanceType string
		wantErr      bool
		wantKept     bool
		want         map[string]string
		wantRequests []string
	}{
		{name: "same instance type", instanceType: "g4dn.xlarge", wantKept: true, want: wantConfig("8", "4", "32", "20"), wantRequests: imdsv2},
		{name: "other instance type", instanceType: "g5.xlarge", want: wantConfig("12", "4", "48", "20"), wantRequests: imdsv2},
		{name: "metadata service unreachable", imdsDown: true, wantKept: true, want: wantConfig("8", "4", "32", "20")},
		{name: "no config and no metadata", noConfig: true, imdsDown: true, wantErr: true},
		{name: "no config yet", noConfig: true, instanceType: "p3.2xlarge", want: wantConfig("12", "4", "48", "21"), wantRequests: imdsv2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			path := filepath.Join(root, "etc", "tesuji", "katago.cfg")
			if !tt.noConfig {
				if r := configScript(t, root, []string{"TESUJI_INSTANCE_TYPE=g4dn.xlarge"}); r.err != nil {
					t.Fatalf("build-time katago-config.sh: %v\n%s", r.err, r.stderr)
				}
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(marker); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			}
			imds := &fakeIMDS{instanceType: tt.instanceType}
			srv := httptest.NewServer(imds)
			url := srv.URL
			if tt.imdsDown {
				srv.Close()
			} else {
				t.Cleanup(srv.Close)
			}

			r := configScript(t, root, []string{"TESUJI_IMDS_ENDPOINT=" + url}, "--boot")
			if tt.wantErr {
				if r.err == nil {
					t.Fatalf("katago-config.sh --boot succeeded, want a failure\n%s", r.stderr)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("katago-config.sh --boot: %v\n%s", r.err, r.stderr)
			}
			cfg, err := readKatagoConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg); diff != "" {
				t.Errorf("katago.cfg (-want +got):\n%s", diff)
			}
			if kept := strings.HasSuffix(readFile(t, path), marker); kept != tt.wantKept {
				t.Errorf("config kept = %v, want %v", kept, tt.wantKept)
			}
			if diff := cmp.Diff(tt.wantRequests, imds.seen()); diff != "" {
				t.Errorf("metadata requests (-want +got):\n%s", diff)
			}
		})
	}
}

// fakePacker is a stand-in for the packer command that records its arguments, keeps a
// copy of the binary it was given and prints machine-readable output like a successful
// amazon-ebs build (or fails, or builds nothing).
const fakePacker = `#!/bin/sh
printf '%s\n' "$*" >>"$FAKE_PACKER_LOG"
case $1 in
plugins)
	[ "$FAKE_PACKER_PLUGINS" = 1 ] || { echo "Usage: packer [--version] <command> [<args>]" >&2; exit 127; }
	exit 0
	;;
build)
	for a in "$@"; do
		case $a in tesuji_binary=*) cp "${a#tesuji_binary=}" "$FAKE_PACKER_BINARY" ;; esac
	done
	echo '1700000000,,ui,say,==> amazon-ebs.worker: Prevalidating AMI Name: tesuji-worker-20240101-000000%!(PACKER_COMMA) ok'
	case $FAKE_PACKER_RESULT in
	fail)
		echo '1700000001,,ui,error,Build '"'"'amazon-ebs.worker'"'"' errored: the warm-up failed'
		exit 1
		;;
	none)
		exit 0
		;;
	esac
	echo '1700000100,amazon-ebs.worker,artifact-count,1'
	echo '1700000100,amazon-ebs.worker,artifact,0,builder-id,mitchellh.amazonebs'
	echo '1700000100,amazon-ebs.worker,artifact,0,id,eu-west-1:ami-0123456789abcdef0'
	echo '1700000100,amazon-ebs.worker,artifact,0,string,AMIs were created:\neu-west-1: ami-0123456789abcdef0\n'
	echo '1700000100,amazon-ebs.worker,artifact,0,end'
	;;
esac
`

// TestAMIScript runs ami.sh, which make ami runs, with a stand-in packer and a local EC2
// endpoint: it must build tesuji for linux/amd64, hand it to packer build, require IMDSv2
// on the AMI and print only the AMI id on stdout.
func TestAMIScript(t *testing.T) {
	t.Parallel()
	const ami = "ami-0123456789abcdef0"
	tests := []struct {
		name        string
		plugins     bool
		result      string
		wantErr     string
		wantPlugins bool
	}{
		{name: "Packer 1.6 with built-in builders"},
		{name: "Packer with plugins", plugins: true, wantPlugins: true},
		{name: "build fails", result: "fail", wantErr: "packer build failed"},
		{name: "no artifact", result: "none", wantErr: "no AMI id in packer's output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bin, "packer"), []byte(fakePacker), 0o755); err != nil {
				t.Fatal(err)
			}
			ec2 := fakeec2.New(ami)
			srv := httptest.NewServer(ec2)
			t.Cleanup(srv.Close)
			plugins := "0"
			if tt.plugins {
				plugins = "1"
			}
			env := append(baseEnv(),
				"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"FAKE_PACKER_LOG="+filepath.Join(dir, "packer.log"),
				"FAKE_PACKER_BINARY="+filepath.Join(dir, "tesuji"),
				"FAKE_PACKER_PLUGINS="+plugins,
				"FAKE_PACKER_RESULT="+tt.result,
				"TESUJI_MAIN=./packer/testdata/fakemain",
				"TESUJI_SSH_CIDR=203.0.113.7/32",
				"AWS_ENDPOINT_URL_EC2="+srv.URL,
				"AWS_ACCESS_KEY_ID=AKIDTESUJITEST",
				"AWS_SECRET_ACCESS_KEY=not-a-secret",
				"AWS_CONFIG_FILE="+filepath.Join(dir, "absent"),
				"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "absent"),
				"AWS_EC2_METADATA_DISABLED=true",
			)
			r := run(t, repoRoot(t), env, "bash", filepath.Join(packerDir(t), "ami.sh"))

			if tt.wantErr != "" {
				if r.err == nil || !strings.Contains(r.stderr, tt.wantErr) {
					t.Fatalf("ami.sh = %v, want a failure mentioning %q\nstderr:\n%s", r.err, tt.wantErr, r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("ami.sh printed %q on stdout after a failure", r.stdout)
				}
				if calls := ec2.Calls(); len(calls) != 0 {
					t.Errorf("ami.sh called EC2 after a failed build: %v", calls)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("ami.sh: %v\nstderr:\n%s", r.err, r.stderr)
			}
			if diff := cmp.Diff(ami+"\n", r.stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.stderr, "Prevalidating AMI Name: tesuji-worker-20240101-000000, ok") {
				t.Errorf("packer's progress not shown as text on stderr:\n%s", r.stderr)
			}
			if got := ec2.ImdsSupport(ami); got != "v2.0" {
				t.Errorf("ImdsSupport of %s = %q, want v2.0", ami, got)
			}

			calls := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "packer.log"))), "\n")
			build := calls[len(calls)-1]
			wantBuild := regexp.MustCompile(`^build -machine-readable -color=false -var tesuji_binary=\S+/tesuji -var ssh_source_cidrs=\["203\.0\.113\.7/32"\] packer/$`)
			if !wantBuild.MatchString(build) {
				t.Errorf("packer called as %q, want %v", build, wantBuild)
			}
			gotPlugins := slices.Contains(calls, "plugins install github.com/hashicorp/amazon v1.8.0")
			if gotPlugins != tt.wantPlugins {
				t.Errorf("amazon plugin installed = %v, want %v (packer calls %q)", gotPlugins, tt.wantPlugins, calls)
			}

			f, err := elf.Open(filepath.Join(dir, "tesuji"))
			if err != nil {
				t.Fatalf("binary handed to packer: %v", err)
			}
			defer f.Close()
			if f.Machine != elf.EM_X86_64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
				t.Errorf("binary handed to packer is %v/%v, want linux x86-64", f.OSABI, f.Machine)
			}
		})
	}
}
