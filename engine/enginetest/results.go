package enginetest

import (
	"hash/fnv"
	"math"
	"slices"
	"strconv"

	"github.com/tesuji/tesuji/katago"
)

// This file invents analysis results. They are not Go knowledge, but they have KataGo's
// shape and enough sense for the packages that consume them: the same position always
// gives the same numbers; winrate and score favour whoever has more stones and the move;
// candidate moves are legal, on sensible lines, with visits that add up; symmetric
// positions report symmetric moves as KataGo does (isSymmetryOf).

// rng is SplitMix64: small, fast and deterministic for a seed.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func seedOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// round9 keeps 9 significant digits, as KataGo's numbers have.
func round9(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 9, 64), 64)
	return v
}

// round6 keeps 6 decimals, as KataGo's ownership values have.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func ptr[T any](v T) *T { return &v }

// candidate is a legal move of the analyzed position with its invented merits.
type candidate struct {
	loc    int
	score  float64 // how good the move looks; decides prior and rank
	prior  float64
	loss   float64 // points lost against the best move, from the mover's side
	orbit  int     // index of the primary candidate this one is symmetric to, or -1
	symMap []int   // the symmetry taking the primary to this one
}

// position is everything about one analyzed position that does not depend on visits.
type position struct {
	b          *board
	komi       float64
	thisHash   string
	symHash    string
	lead       float64 // Black's lead
	stdev      float64
	cands      []candidate // every legal move, best first
	policy     []float64
	passPrior  float64
	seed       uint64
	ownership  []float64 // Black's side
	ownerStdev []float64
	libs       []int // liberties of the group at each point, 0 until computed
}

func newPosition(b *board, komi float64, rules string) *position {
	p := &position{b: b, komi: komi}
	p.thisHash, p.symHash = b.hashes()
	p.seed = seedOf(p.thisHash, strconv.FormatFloat(komi, 'g', -1, 64), rules)
	r := &rng{p.seed}
	area := float64(b.w * b.h)
	diff := float64(b.count(black)-b.count(white)) + float64(b.captures[black]-b.captures[white])
	move := 7.0
	if b.toMove == white {
		move = -7
	}
	p.lead = 14*diff + move - komi + (r.float()-0.5)*0.6
	p.stdev = 30.6*math.Sqrt(area/361) + r.float()*0.4

	// Symmetric points get the same jitter, so they tie and can be reported as copies.
	inv := b.invariants()
	canon := func(loc int) int {
		m := loc
		for _, s := range inv {
			m = min(m, s[loc])
		}
		return m
	}
	for loc := range b.w * b.h {
		if !b.legal(loc, b.toMove) {
			continue
		}
		jr := &rng{p.seed ^ uint64(canon(loc)+1)*0x9E3779B97F4A7C15}
		p.cands = append(p.cands, candidate{loc: loc, score: p.heuristic(loc) + jr.float()*0.6, orbit: -1})
	}
	slices.SortStableFunc(p.cands, func(x, y candidate) int {
		switch {
		case x.score > y.score:
			return -1
		case x.score < y.score:
			return 1
		}
		return canon(x.loc) - canon(y.loc)
	})
	// Softmax priors over the legal moves and pass.
	total := math.Exp(-4.0)
	for i := range p.cands {
		total += math.Exp(2 * p.cands[i].score)
	}
	for i := range p.cands {
		p.cands[i].prior = math.Exp(2*p.cands[i].score) / total
	}
	p.passPrior = math.Exp(-4.0) / total
	// Mark symmetric copies: a candidate that an invariant symmetry maps from a better one.
	// Most positions have no symmetry, and the pairwise scan is the costliest step here.
	for i := range p.cands {
		if len(inv) == 0 {
			break
		}
		for j := 0; j < i && p.cands[i].orbit < 0; j++ {
			if p.cands[j].orbit >= 0 {
				continue
			}
			for _, s := range inv {
				if s[p.cands[j].loc] == p.cands[i].loc {
					p.cands[i].orbit, p.cands[i].symMap = j, s
					p.cands[i].prior = p.cands[j].prior
					break
				}
			}
		}
	}
	// Each searched move loses a little more than the one before it; copies lose as much
	// as the move they copy.
	rank := 0
	for i := range p.cands {
		if o := p.cands[i].orbit; o >= 0 {
			p.cands[i].loss = p.cands[o].loss
			continue
		}
		if rank > 0 {
			p.cands[i].loss = 0.35*float64(rank) + r.float()*0.4
		}
		rank++
	}
	p.ownership = ownership(b, p.seed)
	p.ownerStdev = make([]float64, b.w*b.h)
	for i := range p.ownerStdev {
		p.ownerStdev[i] = round6(0.05 + 0.4*(1-math.Abs(p.ownership[i])))
	}
	return p
}

// heuristic scores a point for the side to move: third and fourth lines, contact with
// stones, captures and escapes.
func (p *position) heuristic(loc int) float64 {
	b := p.b
	x, y := loc%b.w, loc/b.w
	lx, ly := min(x, b.w-1-x), min(y, b.h-1-y)
	s := [...]float64{-2, -0.6, 0.9, 1.0, 0.5}[min(lx, ly, 4)]
	near := func(l int) bool { return l == 2 || l == 3 }
	switch {
	case near(lx) && near(ly): // corners first
		s += 0.8
	case near(lx) && ly >= 4 && ly <= 6, near(ly) && lx >= 4 && lx <= 6: // then approaches and sides
		s += 0.3
	}
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			nx, ny := x+dx, y+dy
			if nx < 0 || ny < 0 || nx >= b.w || ny >= b.h || (dx == 0 && dy == 0) {
				continue
			}
			if b.at(ny*b.w+nx) != empty {
				s += 0.25
			}
		}
	}
	b.neighbors(loc, func(n int) {
		if b.at(n) == empty {
			return
		}
		if libs := p.liberties(n); libs == 1 {
			s += 2 // capture, or save a group in atari
		}
	})
	return s
}

// liberties returns the liberties of the group at loc, computed once per group: every
// point's heuristic looks at its neighbours' groups.
func (p *position) liberties(loc int) int {
	if p.libs == nil {
		p.libs = make([]int, p.b.w*p.b.h)
	}
	if n := p.libs[loc]; n > 0 {
		return n
	}
	stones, n := p.b.group(loc)
	for _, s := range stones {
		p.libs[s] = n
	}
	return n
}

// ownership estimates who owns each point, from Black's side, row-major from the top.
func ownership(b *board, seed uint64) []float64 {
	out := make([]float64, b.w*b.h)
	r := &rng{seed ^ 0x5DEECE66D}
	for loc := range b.w * b.h {
		x, y := loc%b.w, loc/b.w
		var v float64
		switch b.at(loc) {
		case black:
			v = 0.7 + 0.25*r.float()
		case white:
			v = -0.7 - 0.25*r.float()
		default:
			inf := 0.0
			for dy := -4; dy <= 4; dy++ {
				for dx := -4; dx <= 4; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= b.w || ny >= b.h {
						continue
					}
					w := 1 / (1 + float64(dx*dx+dy*dy))
					switch b.at(ny*b.w + nx) {
					case black:
						inf += w
					case white:
						inf -= w
					}
				}
			}
			v = 0.95*math.Tanh(1.2*inf) + (r.float()-0.5)*0.04
		}
		out[loc] = round6(max(-1, min(1, v)))
	}
	return out
}

func winrate(lead, area float64) float64 {
	return 1 / (1 + math.Exp(-lead/(12*math.Sqrt(area/361))))
}

// report renders the position after visits visits as KataGo would for the request.
func (p *position) report(req *request, turn int, visits int64, during bool) *katago.Response {
	b := p.b
	area := float64(b.w * b.h)
	r := &rng{p.seed ^ uint64(visits)*0x2545F4914F6CDD1D}
	// A search of one visit evaluates the root alone: KataGo reports no moveInfos then.
	visits = max(visits, 1)
	sign := 1.0 // how a better move for the mover moves Black's lead
	if b.toMove == white {
		sign = -1
	}
	flip := req.perspective == "WHITE" || (req.perspective == "SIDETOMOVE" && b.toMove == white)
	persp := func(wr, lead float64) (float64, float64) {
		if flip {
			return 1 - wr, -lead
		}
		return wr, lead
	}

	// The searched (primary) candidates that get visits, best first.
	var primaries []int
	for i, c := range p.cands {
		if c.orbit < 0 && !req.restricted(b.toMove, c.loc) {
			primaries = append(primaries, i)
		}
	}
	k := min(len(primaries), max(1, int(math.Sqrt(float64(visits))*1.3)), 40)
	primaries = primaries[:k]
	child := visits - 1
	weights := make([]float64, k)
	wsum := 0.0
	for j, i := range primaries {
		weights[j] = math.Sqrt(p.cands[i].prior) * math.Exp(-1.5*p.cands[i].loss)
		wsum += weights[j]
	}
	counts := make([]int64, k)
	var given int64
	for j := range primaries {
		counts[j] = int64(float64(child) * weights[j] / wsum)
		given += counts[j]
	}
	if k > 0 {
		counts[0] += child - given
	}
	type shown struct {
		cand   int
		visits int64
	}
	var searched []shown
	for j, i := range primaries {
		if counts[j] > 0 {
			searched = append(searched, shown{i, counts[j]})
		}
	}
	slices.SortStableFunc(searched, func(x, y shown) int {
		if x.visits != y.visits {
			if x.visits > y.visits {
				return -1
			}
			return 1
		}
		return 0
	})

	rootLead := p.lead + (r.float()-0.5)/math.Sqrt(float64(visits))
	var infos []katago.MoveInfo
	for _, s := range searched {
		c := p.cands[s.cand]
		lead := rootLead - sign*c.loss*0.5 + (r.float()-0.5)*0.2
		info := p.moveInfo(req, c, s.visits, lead, area, r, persp)
		infos = append(infos, info)
		for i := range p.cands {
			if p.cands[i].orbit == s.cand && !req.restricted(b.toMove, p.cands[i].loc) {
				copyInfo := info
				copyInfo.Move = locString(p.cands[i].loc, b.w, b.h)
				copyInfo.IsSymmetryOf = info.Move
				copyInfo.PV = make([]string, len(info.PV))
				for j, mv := range info.PV {
					loc, _ := parseLoc(mv, b.w, b.h)
					if loc != passLoc {
						loc = p.cands[i].symMap[loc]
					}
					copyInfo.PV[j] = locString(loc, b.w, b.h)
				}
				if req.includeMovesOwner {
					copyInfo.Ownership = mapOwnership(info.Ownership, p.cands[i].symMap)
				}
				if req.includeMovesOwnerSD {
					copyInfo.OwnershipStdev = mapOwnership(info.OwnershipStdev, p.cands[i].symMap)
				}
				infos = append(infos, copyInfo)
			}
		}
	}
	if len(infos) == 0 && child > 0 { // no legal move: KataGo still considers passing
		lead := rootLead - sign*0.5
		wr, pl := persp(winrate(lead, area), lead)
		infos = append(infos, katago.MoveInfo{
			Move: "pass", Visits: int(child), EdgeVisits: ptr(int(child)), Winrate: round9(wr),
			ScoreLead: round9(pl), ScoreMean: round9(pl), ScoreSelfplay: round9(pl * 1.05),
			ScoreStdev: round9(p.stdev), Prior: round9(p.passPrior), Utility: round9(utility(wr, pl)),
			Lcb: round9(wr), UtilityLcb: round9(utility(wr, pl)), Weight: ptr(float64(child)),
			EdgeWeight: ptr(float64(child)), PlaySelectionValue: ptr(float64(child)), PV: []string{"pass"},
		})
	}
	for i := range infos {
		infos[i].Order = i
	}

	wr, lead := persp(winrate(rootLead, area), rootLead)
	rawLead := rootLead + (r.float()-0.5)*2
	rawWr, rawL := persp(winrate(rawLead, area), rawLead)
	root := &katago.RootInfo{
		CurrentPlayer:         b.toMove.String(),
		RawLead:               ptr(round9(rawL)),
		RawNoResultProb:       ptr(round9(9e-05 + r.float()*1e-5)),
		RawScoreSelfplay:      ptr(round9(rawL * 0.9)),
		RawScoreSelfplayStdev: ptr(round9(p.stdev + r.float())),
		RawStScoreError:       ptr(-1.0),
		RawStWrError:          ptr(-0.5),
		RawVarTimeLeft:        ptr(-1.0),
		RawWinrate:            ptr(round9(rawWr)),
		ScoreLead:             round9(lead),
		ScoreSelfplay:         round9(lead * 1.05),
		ScoreStdev:            ptr(round9(p.stdev)),
		SymHash:               p.symHash,
		ThisHash:              p.thisHash,
		Utility:               round9(utility(wr, lead)),
		Visits:                int(visits),
		Weight:                ptr(float64(visits)),
		Winrate:               round9(wr),
	}
	resp := &katago.Response{
		ID:             req.id,
		TurnNumber:     ptr(turn),
		IsDuringSearch: ptr(during),
		MoveInfos:      infos,
		RootInfo:       root,
	}
	if req.includeOwnership {
		resp.Ownership = perspOwnership(p.ownership, flip)
	}
	if req.includeOwnershipSD {
		resp.OwnershipStdev = p.ownerStdev
	}
	if req.includePolicy {
		resp.Policy = make([]float64, b.w*b.h+1)
		for i := range b.w * b.h {
			resp.Policy[i] = -1
		}
		for _, c := range p.cands {
			resp.Policy[c.loc] = round9(c.prior)
		}
		resp.Policy[b.w*b.h] = round9(p.passPrior)
	}
	return resp
}

func utility(wr, lead float64) float64 {
	return max(-1.5, min(1.5, (2*wr-1)*0.9+0.02*lead))
}

func (p *position) moveInfo(req *request, c candidate, visits int64, lead, area float64, r *rng, persp func(float64, float64) (float64, float64)) katago.MoveInfo {
	b := p.b
	m := 0.5 / math.Sqrt(float64(visits)+1)
	wr, pl := persp(winrate(lead, area), lead)
	// The LCB is the mover's lower bound, seen from the reported side.
	moverIsReported := (b.toMove == black) != (req.perspective == "WHITE" || (req.perspective == "SIDETOMOVE" && b.toMove == white))
	lcb, ulcb := wr+m, utility(wr, pl)+2*m
	if moverIsReported {
		lcb, ulcb = wr-m, utility(wr, pl)-2*m
	}
	v := float64(visits)
	psv := v
	if c.loss == 0 {
		psv = v * (1 + r.float()*0.3)
	}
	info := katago.MoveInfo{
		Move:               locString(c.loc, b.w, b.h),
		Visits:             int(visits),
		EdgeVisits:         ptr(int(visits)),
		EdgeWeight:         ptr(v),
		Weight:             ptr(v),
		PlaySelectionValue: ptr(round9(psv)),
		Winrate:            round9(wr),
		ScoreLead:          round9(pl),
		ScoreMean:          round9(pl),
		ScoreSelfplay:      round9(pl*1.05 + (r.float()-0.5)*0.2),
		ScoreStdev:         round9(p.stdev + (r.float()-0.5)*0.5),
		Prior:              round9(c.prior),
		Utility:            round9(utility(wr, pl)),
		Lcb:                round9(lcb),
		UtilityLcb:         round9(ulcb),
		PV:                 p.pv(c.loc, visits, req.pvLen),
	}
	if req.includePVVisits {
		info.PVVisits = make([]int, len(info.PV))
		n := float64(visits)
		for i := range info.PV {
			info.PVVisits[i] = max(1, int(n))
			n *= 0.7
		}
		info.PVEdgeVisits = slices.Clone(info.PVVisits)
	}
	if req.includeNoResultValue {
		info.NoResultValue = ptr(round9(1e-4 * (1 + r.float())))
	}
	if req.includeMovesOwner || req.includeMovesOwnerSD {
		after := b.clone()
		after.play(c.loc, b.toMove)
		own := ownership(after, p.seed^uint64(c.loc+1))
		flip := req.perspective == "WHITE" || (req.perspective == "SIDETOMOVE" && b.toMove == white)
		if req.includeMovesOwner {
			info.Ownership = perspOwnership(own, flip)
		}
		if req.includeMovesOwnerSD {
			info.OwnershipStdev = make([]float64, len(own))
			for i := range own {
				info.OwnershipStdev[i] = round6(0.05 + 0.4*(1-math.Abs(own[i])))
			}
		}
	}
	return info
}

// pv continues the candidate with the best-looking points still open, alternating colors.
func (p *position) pv(first int, visits int64, pvLen int) []string {
	b := p.b
	n := min(pvLen+1, 1+int(math.Log2(float64(visits))))
	out := []string{locString(first, b.w, b.h)}
	t := b.clone()
	t.play(first, t.toMove)
	for _, c := range p.cands {
		if len(out) >= n {
			break
		}
		if c.loc == first || !t.legal(c.loc, t.toMove) {
			continue
		}
		t.play(c.loc, t.toMove)
		out = append(out, locString(c.loc, b.w, b.h))
	}
	return out
}

func perspOwnership(own []float64, flip bool) []float64 {
	out := slices.Clone(own)
	if flip {
		for i := range out {
			out[i] = -out[i] + 0 // +0 keeps -0 from appearing
		}
	}
	return out
}

func mapOwnership(own []float64, sym []int) []float64 {
	if own == nil {
		return nil
	}
	out := make([]float64, len(own))
	for i, v := range own {
		out[sym[i]] = v
	}
	return out
}

// noResults is the final line of a turn terminated before its search began.
func noResults(id string, turn int) *katago.Response {
	return &katago.Response{ID: id, TurnNumber: ptr(turn), IsDuringSearch: ptr(false), NoResults: true}
}
