package jsonfmt

import (
	"math"
	"math/big"
	"math/bits"
)

// This file formats floats the way nlohmann::json, KataGo's JSON library, does: with the
// Grisu2 algorithm (Florian Loitsch, "Printing Floating-Point Numbers Quickly and Accurately
// with Integers", PLDI 2010). Grisu2 finds a short digit string that reads back as the
// value but, unlike strconv, not always the shortest one: KataGo prints 0.283266983 as
// "0.28326698300000003". Reproducing it lets a decoded line re-encode to the same bytes.

// diyfp is a float f * 2^e with a 64-bit significand.
type diyfp struct {
	f uint64
	e int
}

func (x diyfp) sub(y diyfp) diyfp { return diyfp{x.f - y.f, x.e} }

// mul returns x*y rounded to 64 bits, ties up.
func (x diyfp) mul(y diyfp) diyfp {
	hi, lo := bits.Mul64(x.f, y.f)
	return diyfp{hi + lo>>63, x.e + y.e + 64}
}

func (x diyfp) normalize() diyfp {
	s := bits.LeadingZeros64(x.f)
	return diyfp{x.f << s, x.e - s}
}

func (x diyfp) normalizeTo(e int) diyfp {
	return diyfp{x.f << (x.e - e), e}
}

// boundaries returns v and the halfway points to its neighbours, normalized so that
// minus and plus share plus's exponent.
func boundaries(v float64) (w, minus, plus diyfp) {
	const precision = 53
	const bias = 1023 + precision - 1
	const hidden = uint64(1) << (precision - 1)
	b := math.Float64bits(v)
	E := b >> (precision - 1)
	F := b & (hidden - 1)
	var x diyfp
	if E == 0 {
		x = diyfp{F, 1 - bias}
	} else {
		x = diyfp{F + hidden, int(E) - bias}
	}
	lowerCloser := F == 0 && E > 1
	mPlus := diyfp{2*x.f + 1, x.e - 1}
	var mMinus diyfp
	if lowerCloser {
		mMinus = diyfp{4*x.f - 1, x.e - 2}
	} else {
		mMinus = diyfp{2*x.f - 1, x.e - 1}
	}
	plus = mPlus.normalize()
	minus = mMinus.normalizeTo(plus.e)
	return x.normalize(), minus, plus
}

type cachedPower struct {
	f uint64
	e int
	k int
}

const (
	grisuAlpha        = -60
	cachedMinDecExp   = -300
	cachedDecExpStep  = 8
	cachedPowersCount = 79
)

// cachedPowers holds 10^k for k = -300, -292, ..., 324 as normalized 64-bit significands
// rounded to nearest, the table Grisu implementations ship precomputed.
var cachedPowers = func() [cachedPowersCount]cachedPower {
	var t [cachedPowersCount]cachedPower
	ten := big.NewInt(10)
	for i := range t {
		k := cachedMinDecExp + i*cachedDecExpStep
		// Exact rational 10^k = num/den.
		num, den := big.NewInt(1), big.NewInt(1)
		if k >= 0 {
			num.Exp(ten, big.NewInt(int64(k)), nil)
		} else {
			den.Exp(ten, big.NewInt(int64(-k)), nil)
		}
		// Find e with 2^63 <= 10^k * 2^-e < 2^64, then round the quotient to nearest.
		e := num.BitLen() - den.BitLen() - 64
		for {
			n, d := new(big.Int).Set(num), new(big.Int).Set(den)
			if e < 0 {
				n.Lsh(n, uint(-e))
			} else {
				d.Lsh(d, uint(e))
			}
			q, r := new(big.Int).QuoRem(n, d, new(big.Int))
			if q.BitLen() > 64 {
				e++
				continue
			}
			if q.BitLen() < 64 {
				e--
				continue
			}
			if r.Lsh(r, 1).Cmp(d) >= 0 {
				q.Add(q, big.NewInt(1))
			}
			if q.BitLen() > 64 { // rounding carried into a 65th bit
				q.Rsh(q, 1)
				e++
			}
			t[i] = cachedPower{q.Uint64(), e, k}
			break
		}
	}
	return t
}()

func cachedPowerFor(e int) cachedPower {
	f := grisuAlpha - e - 1
	k := f * 78913 / (1 << 18)
	if f > 0 {
		k++
	}
	return cachedPowers[(-cachedMinDecExp+k+(cachedDecExpStep-1))/cachedDecExpStep]
}

// grisu2 writes the digits of v > 0 into buf and returns them with the decimal exponent of
// the last digit: v ≈ digits * 10^exp.
func grisu2(buf []byte, v float64) ([]byte, int) {
	w, minus, plus := boundaries(v)
	c := cachedPowerFor(plus.e)
	cm := diyfp{c.f, c.e}
	ww := w.mul(cm)
	wMinus := minus.mul(cm)
	wPlus := plus.mul(cm)
	mMinus := diyfp{wMinus.f + 1, wMinus.e}
	mPlus := diyfp{wPlus.f - 1, wPlus.e}
	return grisu2DigitGen(buf, -c.k, mMinus, ww, mPlus)
}

func grisu2DigitGen(buf []byte, exp int, mMinus, w, mPlus diyfp) ([]byte, int) {
	delta := mPlus.sub(mMinus).f
	dist := mPlus.sub(w).f
	one := diyfp{uint64(1) << uint(-mPlus.e), mPlus.e}
	p1 := uint32(mPlus.f >> uint(-one.e))
	p2 := mPlus.f & (one.f - 1)
	pow10 := largestPow10(p1)
	for n := digitCount(p1); n > 0; {
		d := p1 / pow10
		r := p1 % pow10
		buf = append(buf, byte('0'+d))
		p1 = r
		n--
		rest := uint64(p1)<<uint(-one.e) + p2
		if rest <= delta {
			exp += n
			grisu2Round(buf, dist, delta, rest, uint64(pow10)<<uint(-one.e))
			return buf, exp
		}
		pow10 /= 10
	}
	m := 0
	for {
		p2 *= 10
		d := p2 >> uint(-one.e)
		r := p2 & (one.f - 1)
		buf = append(buf, byte('0'+d))
		p2 = r
		m++
		delta *= 10
		dist *= 10
		if p2 <= delta {
			break
		}
	}
	exp -= m
	grisu2Round(buf, dist, delta, p2, one.f)
	return buf, exp
}

func grisu2Round(buf []byte, dist, delta, rest, tenK uint64) {
	for rest < dist && delta-rest >= tenK && (rest+tenK < dist || dist-rest > rest+tenK-dist) {
		buf[len(buf)-1]--
		rest += tenK
	}
}

func digitCount(n uint32) int {
	c := 1
	for p := uint32(10); c < 10 && n >= p; p *= 10 {
		c++
	}
	return c
}

func largestPow10(n uint32) uint32 {
	p := uint32(1)
	for c := digitCount(n); c > 1; c-- {
		p *= 10
	}
	return p
}
