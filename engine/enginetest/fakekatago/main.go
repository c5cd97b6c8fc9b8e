// Command fakekatago is a stand-in for KataGo's analysis engine, for tests: it is invoked
// like katago (fakekatago analysis -config C -model M) and speaks the same protocol. All
// of its logic, and the environment variables that steer it, are in package enginetest.
package main

import (
	"os"

	"github.com/tesuji/tesuji/engine/enginetest"
)

func main() {
	os.Exit(enginetest.Main(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
