package game

// exportAnalysis writes each analyzed position's analysis on the node that shows it, in
// the properties other programs read back to show the graph and the candidates without
// analyzing again: KaTrain's KT (and KTV on the root), Lizzie's LZ and Sabaki's SBKV and
// SBKS. The position before the first move goes on the node that shows it (usually the
// root), the position after each move on that move's node. line is the annotated copy of
// rec.Line.
func exportAnalysis(rec *Record, line []*Node, turnAt func(int) *Turn) {
	g := rec.Game
	nodes := make([]*Node, len(g.Moves)+1)
	if rec.startNode >= 0 {
		nodes[0] = line[rec.startNode]
	}
	for i, li := range rec.moveNode {
		nodes[i+1] = line[li]
	}
	any := false
	for turn, n := range nodes {
		t := turnAt(turn)
		if n == nil || t == nil {
			continue
		}
		any = true
		setValues(n, "KT", katrainAnalysis(g, t)...)
		if lz, ok := lizzieData(t); ok {
			setValues(n, "LZ", lz)
		}
		if wr, score, ok := sabakiValues(t); ok {
			setValues(n, "SBKV", wr)
			setValues(n, "SBKS", score)
		}
	}
	if any {
		setValues(line[0], "KTV", katrainFormatVersion)
	}
}

// setValues sets the property id to these values, replacing any earlier ones.
func setValues(n *Node, id string, values ...string) {
	for i, p := range n.Props {
		if p.ID == id {
			n.Props[i] = Property{ID: id, Values: values}
			return
		}
	}
	n.Props = append(n.Props, Property{ID: id, Values: values})
}

// sideToMove returns a value given from Black's view from the view of the side to move.
func sideToMove(t *Turn, black float64) float64 {
	if t.Player == White.String() {
		return -black
	}
	return black
}
