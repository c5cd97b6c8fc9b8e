package game

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/x448/float16"
)

// katrainFormatVersion is KaTrain's ANALYSIS_FORMAT_VERSION, written as KTV on the root.
const katrainFormatVersion = "1.0"

// katrainAnalysis encodes a turn as KaTrain's KT values (analysis_dumps in KaTrain's
// katrain/core/game_node.py): three base64 texts of gzip data, the ownership and the
// policy as packed half-precision floats (little-endian, Python's struct "e"; empty when
// unknown) and the rest of the analysis as JSON:
//
//	{"moves": {"Q16": moveInfo, ...}, "root": rootInfo, "completed": true}
//
// moveInfo (without its ownership, as KaTrain drops it) and rootInfo are KataGo's, from
// Black's view as KaTrain asks KataGo for them.
// KaTrain's load_analysis reads the ownership only when it has one value per point, so an
// ownership of another length is left out.
func katrainAnalysis(g *Game, t *Turn) []string {
	var own []byte
	if len(t.Ownership) == g.BoardXSize*g.BoardYSize {
		own = packHalfFloats(t.Ownership)
	}
	moves := make(map[string]json.RawMessage, len(t.Candidates))
	for _, c := range t.Candidates {
		if _, dup := moves[c.Move]; dup {
			continue
		}
		c.Ownership = nil // as analysis_dumps drops the per-move ownership
		data, err := json.Marshal(c)
		if err != nil {
			panic(fmt.Sprintf("game: encode a move info: %v", err)) // plain values always encode
		}
		moves[c.Move] = data
	}
	main, err := json.Marshal(struct {
		Moves     map[string]json.RawMessage `json:"moves"`
		Root      katrainRoot                `json:"root"`
		Completed bool                       `json:"completed"`
	}{moves, katrainRoot{t.Winrate, t.ScoreLead, t.Visits, t.Player}, true})
	if err != nil {
		panic(fmt.Sprintf("game: encode an analysis: %v", err))
	}
	return []string{gzipBase64(own), gzipBase64(nil), gzipBase64(main)}
}

// katrainRoot is the part of KataGo's rootInfo a Turn keeps.
type katrainRoot struct {
	Winrate       float64 `json:"winrate"`
	ScoreLead     float64 `json:"scoreLead"`
	Visits        int     `json:"visits"`
	CurrentPlayer string  `json:"currentPlayer,omitempty"`
}

// packHalfFloats packs values as Python's struct.pack("<Ne") does.
func packHalfFloats(values []float64) []byte {
	out := make([]byte, 2*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint16(out[2*i:], float16.Fromfloat32(float32(v)).Bits())
	}
	return out
}

func gzipBase64(data []byte) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data) // writes to a bytes.Buffer do not fail
	w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}
