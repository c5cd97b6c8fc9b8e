package game

import (
	"bytes"
	"strings"
)

// WriteSGF writes game trees as SGF text (UTF-8, values escaped, one node per line). It
// walks with an explicit stack, so any depth of variations is written.
func WriteSGF(trees []*Node) []byte {
	var b bytes.Buffer
	type item struct {
		node  *Node
		open  bool // write "(" first
		close bool // only write ")"
	}
	for _, root := range trees {
		stack := []item{{close: true}, {node: root, open: true}}
		first := true
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if it.close {
				b.WriteByte(')')
				continue
			}
			if !first {
				b.WriteByte('\n')
			}
			first = false
			if it.open {
				b.WriteByte('(')
			}
			writeNode(&b, it.node)
			switch n := len(it.node.Children); {
			case n == 1:
				stack = append(stack, item{node: it.node.Children[0]})
			case n > 1:
				for k := n - 1; k >= 0; k-- {
					stack = append(stack, item{close: true}, item{node: it.node.Children[k], open: true})
				}
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func writeNode(b *bytes.Buffer, n *Node) {
	b.WriteByte(';')
	for _, p := range n.Props {
		b.WriteString(p.ID)
		if len(p.Values) == 0 {
			b.WriteString("[]")
		}
		for _, v := range p.Values {
			b.WriteByte('[')
			writeEscaped(b, v)
			b.WriteByte(']')
		}
	}
}

func writeEscaped(b *bytes.Buffer, v string) {
	for {
		i := strings.IndexAny(v, "\\]")
		if i < 0 {
			b.WriteString(v)
			return
		}
		b.WriteString(v[:i])
		b.WriteByte('\\')
		b.WriteByte(v[i])
		v = v[i+1:]
	}
}
