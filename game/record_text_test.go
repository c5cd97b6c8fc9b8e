package game

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago"
)

func TestRecordText(t *testing.T) {
	t.Parallel()
	rec, err := ParseSGF([]byte(`(;GM[1]FF[4]SZ[9]KM[7]RU[Chinese]C[A friendly game]
		;B[ee]C[center first](;W[cc]C[solid];C[a note];B[gg])
		(;W[gc]C[the other corner];B[ee]C[illegal: occupied];W[cg]))`), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A friendly game", "center first", "solid\na note", ""}, rec.Comments()); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	want := []RecordVariation{{At: 1, Moves: []katago.Move{{"W", "G7"}}, Comments: []string{"the other corner"}}}
	if diff := cmp.Diff(want, rec.RecordVariations()); diff != "" {
		t.Errorf("variations (-want +got):\n%s", diff)
	}
}
