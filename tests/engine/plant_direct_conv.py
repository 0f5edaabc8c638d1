#!/usr/bin/python3
"""tests/engine/plant_direct_conv.py REFERENCE OUT: module 09's reference spatial.c with
tt_conv2d's forward computed by the obvious direct loop (six nested loops, one output at
a time) instead of im2col + matmul. Correct, slower: the speed bands of module 09
(grader/course/default.json) must give it some but not all speed points."""
import sys

DIRECT = """    TT_CHECK(tt_tensor_contiguous(&xc, x));
    TT_CHECK(tt_tensor_contiguous(&wmat, weight));
    if (bias)
        TT_CHECK(tt_tensor_contiguous(&bc, bias));
    TT_CHECK(tt_tensor_zeros(&y, 4, TT_SHAPE(g.n, g.o, g.oh, g.ow)));
    const float *xd = tt_tensor_data(xc), *wd = tt_tensor_data(wmat);
    float *yd = tt_tensor_data(y);
    for (size_t n = 0; n < g.n; n++)
        for (size_t o = 0; o < g.o; o++)
            for (size_t i = 0; i < g.oh; i++)
                for (size_t j = 0; j < g.ow; j++) {
                    float acc = bc ? tt_tensor_data(bc)[o] : 0.0f;
                    for (size_t c = 0; c < g.c; c++)
                        for (size_t u = 0; u < g.kh; u++) {
                            long r = (long)(i * g.stride + u) - (long)g.pad;
                            if (r < 0 || r >= (long)g.h)
                                continue;
                            for (size_t v = 0; v < g.kw; v++) {
                                long q = (long)(j * g.stride + v) - (long)g.pad;
                                if (q < 0 || q >= (long)g.w)
                                    continue;
                                acc += wd[((o * g.c + c) * g.kh + u) * g.kw + v] *
                                       xd[((n * g.c + c) * g.h + (size_t)r) * g.w + (size_t)q];
                            }
                        }
                    yd[((n * g.o + o) * g.oh + i) * g.ow + j] = acc;
                }
"""

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plant_direct_conv.py REFERENCE OUT")
    src = open(sys.argv[1]).read()
    # From the im2col sizes to the cleanup label: the forward's computation.
    start = src.find("    size_t plane = g.oh * g.ow, ncols = g.n * plane, rows = g.c * g.kh * g.kw;")
    end = src.find("cleanup:", start)
    if start < 0 or end < 0:
        sys.exit("plant_direct_conv.py: tt_conv2d of %s no longer has the expected shape; "
                 "update this script" % sys.argv[1])
    # cols and ymat stay declared (and freed) for the untouched cleanup code.
    body = DIRECT + "    (void)cols;\n    (void)ymat;\n"
    with open(sys.argv[2], "w") as f:
        f.write(src[:start] + body + src[end:])

main()
