//go:build webui

package web

import (
	"embed"
	"io/fs"
)

// dist is the UI that build.mjs built; a webui build fails without it.
//
//go:embed all:dist
var dist embed.FS

func assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: embedded dist: " + err.Error()) // fs.Sub fails only on an invalid name
	}
	return sub
}
