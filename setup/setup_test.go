package setup_test

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tesuji/tesuji/setup"
)

// TestMain lets this test binary stand in for a KataGo AppImage, installed as katago: run
// with --appimage-extract it unpacks, as an AppImage does, into ./squashfs-root an AppRun
// that answers like katago and says where it runs from; run otherwise it fails as an
// AppImage does where there is no FUSE.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "katago" {
		if len(os.Args) == 2 && os.Args[1] == "--appimage-extract" {
			appRun := "#!/bin/sh\necho \"KataGo v1.16.4 from $0\"\n"
			err := os.MkdirAll("squashfs-root", 0o755)
			if err == nil {
				err = os.WriteFile(filepath.Join("squashfs-root", "AppRun"), []byte(appRun), 0o755)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Println("squashfs-root/AppRun")
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "dlopen(): error loading libfuse.so.2\n\nAppImages require FUSE to run.")
		os.Exit(127)
	}
	os.Exit(m.Run())
}

// release builds a zip like KataGo's release archives: the binary and a config beside it.
func release(t *testing.T, binary []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range map[string][]byte{"katago": binary, "analysis_example.cfg": []byte("# example\n"), "../escape": []byte("x")} {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		if name == "katago" {
			h.SetMode(0o755)
			// Stored: one binary is this test binary, which takes seconds to deflate
			// under the race detector.
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInstallDownloadsUnpacksAndChecks(t *testing.T) {
	t.Parallel()
	binary := []byte("#!/bin/sh\necho KataGo v1.16.4\n")
	archive := release(t, binary)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/katago.zip":
			w.Write(archive)
		case "/net.bin.gz":
			w.Write([]byte("network bytes"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	var progress bytes.Buffer
	var checked []string
	cfg := setup.InstallConfig{
		Dir: dir, KataGoURL: srv.URL + "/katago.zip", ModelURL: srv.URL + "/net.bin.gz",
		KataGoSHA256: sha(archive), ModelSHA256: sha([]byte("network bytes")),
		Progress: &progress,
		Check: func(_ context.Context, katago, model string) error {
			checked = append(checked, katago, model)
			return nil
		},
	}
	katago, model, err := setup.Install(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if katago != setup.KataGoPath(dir) || model != filepath.Join(setup.ModelDir(dir), "net.bin.gz") {
		t.Errorf("paths %s %s", katago, model)
	}
	got, _ := os.ReadFile(katago)
	if !bytes.Equal(got, binary) {
		t.Errorf("katago binary = %q", got)
	}
	if info, _ := os.Stat(katago); info.Mode()&0o111 == 0 {
		t.Errorf("katago is not executable: %v", info.Mode())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Errorf("an archive entry escaped the install directory")
	}
	if len(checked) != 2 {
		t.Errorf("engine not checked: %v", checked)
	}
	if !strings.Contains(progress.String(), "100%") {
		t.Errorf("no progress drawn: %q", progress.String())
	}
	if _, _, err := setup.Locate(katago, model); err != nil {
		t.Errorf("locate installed: %v", err)
	}

	// A second install downloads nothing.
	before := hits.Load()
	if _, _, err := setup.Install(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != before {
		t.Errorf("second install downloaded again")
	}
}

func TestInstallFailures(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/notzip":
			w.Write([]byte("not a zip"))
		case "/nobinary.zip":
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			f, _ := zw.Create("README.txt")
			f.Write([]byte("hi"))
			zw.Close()
			w.Write(buf.Bytes())
		case "/ok.zip":
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			f, _ := zw.Create("katago")
			f.Write([]byte("bin"))
			zw.Close()
			w.Write(buf.Bytes())
		case "/net":
			w.Write([]byte("net"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	sums := map[string]string{}
	for _, p := range []string{"/notzip", "/nobinary.zip", "/ok.zip", "/net"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sums[p] = sha(b)
	}
	cases := []struct {
		name, katago, model string
		check               error
		want                string
	}{
		{"404", "/missing.zip", "/net", nil, "404"},
		{"not a zip", "/notzip", "/net", nil, "not a zip archive"},
		{"no binary", "/nobinary.zip", "/net", nil, "holds no katago binary"},
		{"network 404", "/ok.zip", "/nonet", nil, "download network"},
		{"engine does not start", "/ok.zip", "/net", errors.New("exec format error"), "does not start: exec format error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := setup.Install(context.Background(), setup.InstallConfig{
				Dir: t.TempDir(), KataGoURL: srv.URL + tc.katago, ModelURL: srv.URL + tc.model,
				KataGoSHA256: cmp.Or(sums[tc.katago], sha(nil)), ModelSHA256: cmp.Or(sums[tc.model], sha(nil)),
				Check: func(context.Context, string, string) error { return tc.check },
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestInstallVerifiesChecksums: a download whose SHA-256 is not the expected one is
// refused and leaves nothing installed, and so is one with no digest to check it by;
// the pinned network's digest applies to the pinned URL.
func TestInstallVerifiesChecksums(t *testing.T) {
	t.Parallel()
	archive := release(t, []byte("#!/bin/sh\necho KataGo\n"))
	network := []byte("network bytes")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch path.Base(r.URL.Path) {
		case "katago.zip", "katago-" + setup.KataGoVersion + "-eigen-linux-x64.zip":
			w.Write(archive)
		case "good", "bad", "empty": // GitHub's description of the release
			digest := map[string]string{"good": sha(archive), "bad": sha([]byte("other")), "empty": ""}[path.Base(r.URL.Path)]
			pinned, _ := setup.ReleaseURL(setup.BackendCPU, "linux", "amd64", false)
			fmt.Fprintf(w, `{"assets":[{"browser_download_url":%q,"digest":"sha256:%s"},{"browser_download_url":"x","digest":"sha256:00"}]}`, pinned, digest)
		case "tampered.zip":
			w.Write(append(bytes.Clone(archive[:len(archive)-1]), archive[len(archive)-1]^1))
		default: // a network, the pinned one's name included
			w.Write(network)
		}
	}))
	t.Cleanup(srv.Close)
	// Every request goes to the test's server, whatever host its URL names.
	toServer := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		u, _ := url.Parse(srv.URL)
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
		return http.DefaultTransport.RoundTrip(r)
	})}
	pinnedRelease, err := setup.ReleaseURL(setup.BackendCPU, "linux", "amd64", false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                    string
		katago, katagoSum       string
		model, modelSum         string
		want                    string // "" : installed
		wantKataGo, wantNetwork bool
		api                     string // the release's digests: good, bad or empty
	}{
		{"right archive and network", srv.URL + "/katago.zip", sha(archive), srv.URL + "/net.bin.gz", sha(network), "", true, true, "empty"},
		{"tampered archive", srv.URL + "/tampered.zip", sha(archive), srv.URL + "/net.bin.gz", sha(network), "has SHA-256", false, false, "empty"},
		{"wrong network", srv.URL + "/katago.zip", sha(archive), srv.URL + "/net.bin.gz", sha([]byte("another network")), "has SHA-256", true, false, "empty"},
		{"archive with no digest", srv.URL + "/katago.zip", "", srv.URL + "/net.bin.gz", sha(network), "--katago-sha256", false, false, "empty"},
		{"network with no digest", srv.URL + "/katago.zip", sha(archive), srv.URL + "/net.bin.gz", "", "--model-sha256", true, false, "empty"},
		{"not a digest", srv.URL + "/katago.zip", "abc", srv.URL + "/net.bin.gz", sha(network), "64 hex digits", false, false, "empty"},
		{"pinned network, other bytes", srv.URL + "/katago.zip", sha(archive), setup.ModelURL, "", setup.ModelSHA256, true, false, "empty"},
		{"pinned release, digest given", pinnedRelease, strings.ToUpper(sha(archive)), srv.URL + "/net.bin.gz", sha(network), "", true, true, "bad"},
		{"pinned release, GitHub's digest", pinnedRelease, "", srv.URL + "/net.bin.gz", sha(network), "", true, true, "good"},
		{"pinned release, GitHub's digest differs", pinnedRelease, "", srv.URL + "/net.bin.gz", sha(network), "has SHA-256", false, false, "bad"},
		{"pinned release, no digest published", pinnedRelease, "", srv.URL + "/net.bin.gz", sha(network), "--katago-sha256", false, false, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, _, err := setup.Install(context.Background(), setup.InstallConfig{
				Dir: dir, KataGoURL: tc.katago, KataGoSHA256: tc.katagoSum, ModelURL: tc.model, ModelSHA256: tc.modelSum,
				HTTP: toServer, Check: func(context.Context, string, string) error { return nil },
				ReleaseAPI: srv.URL + "/api/" + tc.api,
			})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("install: %v", err)
			case tc.want != "" && (!errors.Is(err, setup.ErrChecksum) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want a checksum error containing %q", err, tc.want)
			}
			_, kerr := os.Stat(setup.KataGoPath(dir))
			if got := kerr == nil; got != tc.wantKataGo {
				t.Errorf("katago installed: %v, want %v", got, tc.wantKataGo)
			}
			nets, _ := os.ReadDir(setup.ModelDir(dir))
			if got := len(nets) > 0; got != tc.wantNetwork {
				t.Errorf("network files %v, want installed %v", nets, tc.wantNetwork)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestReleaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		b            setup.Backend
		goos, goarch string
		avx2         bool
		want         string
	}{
		{setup.BackendCPU, "linux", "amd64", true, "katago-v1.16.4-eigenavx2-linux-x64.zip"},
		{setup.BackendCPU, "linux", "amd64", false, "katago-v1.16.4-eigen-linux-x64.zip"},
		{setup.BackendCUDA, "linux", "amd64", true, "-cuda12.5-cudnn8.9.7-linux-x64.zip"},
		{setup.BackendTensorRT, "windows", "amd64", true, "-trt10.2.0-cuda12.5-windows-x64.zip"},
		{setup.BackendCPU, "darwin", "arm64", true, "error"},
		{setup.BackendCPU, "darwin", "amd64", true, "error"},
		{"opencl2", "linux", "amd64", true, "error"},
	}
	for _, tc := range cases {
		got, err := setup.ReleaseURL(tc.b, tc.goos, tc.goarch, tc.avx2)
		if tc.want == "error" {
			if err == nil {
				t.Errorf("%v %s/%s: want an error, got %s", tc.b, tc.goos, tc.goarch, got)
			}
			continue
		}
		if err != nil || !strings.HasSuffix(got, tc.want) || !strings.HasPrefix(got, "https://github.com/lightvector/KataGo/releases/download/") {
			t.Errorf("%v %s/%s: %s, %v; want suffix %s", tc.b, tc.goos, tc.goarch, got, err, tc.want)
		}
	}
}

func TestLocateNamesTheFix(t *testing.T) {
	t.Parallel()
	_, _, err := setup.Locate(filepath.Join(t.TempDir(), "nokatago"), "")
	if !errors.Is(err, setup.ErrNotFound) || !strings.Contains(err.Error(), "--katago") {
		t.Errorf("err = %v", err)
	}
	bin := filepath.Join(t.TempDir(), "katago")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	_, _, err = setup.Locate(bin, filepath.Join(t.TempDir(), "none.bin.gz"))
	if !errors.Is(err, setup.ErrNotFound) || !strings.Contains(err.Error(), "--model") {
		t.Errorf("err = %v", err)
	}
}

// serveRelease serves archive as a release and "net" as the network, counting the
// release's downloads, and returns an InstallConfig that installs them into a new
// directory.
func serveRelease(t *testing.T, archive []byte) (setup.InstallConfig, *atomic.Int32) {
	t.Helper()
	downloads := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/katago.zip" {
			downloads.Add(1)
			w.Write(archive)
			return
		}
		w.Write([]byte("net"))
	}))
	t.Cleanup(srv.Close)
	return setup.InstallConfig{Dir: t.TempDir(), KataGoURL: srv.URL + "/katago.zip", ModelURL: srv.URL + "/net.bin.gz",
		KataGoSHA256: sha(archive), ModelSHA256: sha([]byte("net"))}, downloads
}

// An install whose KataGo does not start leaves no binary behind, so the next install
// downloads it again instead of trusting it.
func TestInstallRemovesKataGoThatDoesNotStart(t *testing.T) {
	t.Parallel()
	archive := release(t, []byte("#!/bin/sh\nexit 1\n"))
	cfg, downloads := serveRelease(t, archive)
	checkErr := errors.New("katago: exit status 1")
	cfg.Check = func(context.Context, string, string) error { return checkErr }
	if _, _, err := setup.Install(context.Background(), cfg); !errors.Is(err, checkErr) {
		t.Fatalf("install: %v, want the check's error", err)
	}
	if _, err := os.Stat(setup.KataGoPath(cfg.Dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the KataGo that did not start is still installed: %v", err)
	}
	checkErr = nil
	if _, _, err := setup.Install(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if n := downloads.Load(); n != 2 {
		t.Errorf("KataGo downloaded %d times, want again after the failed check", n)
	}
}

// A release whose katago is an AppImage is installed unpacked, so that KataGo runs without
// FUSE: the installed katago runs the AppImage's AppRun, and installing again downloads
// nothing.
func TestInstallUnpacksAppImage(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	copy(bin[8:11], "AI\x02") // ELF padding the kernel ignores; an AppImage's mark
	archive := release(t, bin)
	cfg, downloads := serveRelease(t, archive)
	var said string
	cfg.Check = func(ctx context.Context, katago, _ string) error {
		out, err := exec.CommandContext(ctx, katago, "version").Output()
		said = string(out)
		return err
	}
	for range 2 {
		katago, _, err := setup.Install(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(filepath.Dir(katago), "appimage", "AppRun"); !strings.Contains(said, "KataGo v1.16.4 from "+want) {
			t.Errorf("installed katago says %q, want the AppImage's AppRun, %s", said, want)
		}
	}
	if n := downloads.Load(); n != 1 {
		t.Errorf("KataGo downloaded %d times, want once", n)
	}
}
