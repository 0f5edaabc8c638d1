#!/usr/bin/perl
# tests/batch/solution_text.pl SOURCE_DIR DIR: print every line of the files under DIR
# that is solution text of SOURCE_DIR/reference/src, and exit 1 if there is any.
#
# An implementation of the rule of grader/release.h written apart from it (another
# language, another author's reading), for the release test:
#   - solution lines: the lines of 21 characters or more (blanks trimmed, inner runs made
#     one space) between /* BEGIN SOLUTION ... */ and /* END SOLUTION */;
#   - idioms, never solution text: lines also outside the regions, in two regions, in the
#     public headers, or in the project's code that implements nothing of the course
#     (tests/, bench/, grader/ but the visible checks and their helpers that ship, cli/,
#     leaderboard/);
#   - a leak: a solution line of 40 characters or more (of 60 or more also inside a
#     longer line), or two solution lines of the same region with only shorter lines
#     between them.
# Compiled objects (.o, .a) and programs (ELF) are not searched.
use strict;
use warnings;
use File::Find;

my ($src, $dir) = @ARGV;
die "usage: $0 SOURCE_DIR DIR\n" unless defined $dir;

sub norm {
    my $t = shift;
    $t =~ s/^\s+|\s+$//g;
    $t =~ s/\s+/ /g;
    return $t;
}

my (%region, %idiom);
my $r = 0;
for my $f (sort glob("$src/reference/src/*.c")) {
    open my $fh, '<', $f or die "$f: $!\n";
    my $in = 0;
    while (my $line = <$fh>) {
        my $t = norm($line);
        if ($t =~ m{^/\* BEGIN SOLUTION}) { $in = 1; $r++; next; }
        if ($t =~ m{^/\* END SOLUTION \*/}) { $in = 0; next; }
        next if length($t) < 21;
        if (!$in) { $idiom{$t} = 1; next; }
        $idiom{$t} = 1 if exists $region{$t} && $region{$t} != $r;
        $region{$t} //= $r;
    }
}
my @independent = grep { -d } map { "$src/$_" } qw(reference/include tests bench grader cli leaderboard);
find(sub {
    return unless /\.[ch]\z/ && -f $_;
    return if $File::Find::name =~ m{/grader/suites/[^/]+/(visible\.c|helpers\.h)\z};
    open my $fh, '<', $_ or return;
    while (my $line = <$fh>) { $idiom{norm($line)} = 1; }
}, @independent);

# The long solution lines, to find them inside longer lines too (one alternation: perl
# makes a trie of it).
my @long = sort grep { length($_) >= 60 && !$idiom{$_} } keys %region;
my $inside = @long ? join('|', map { quotemeta } @long) : '(?!)';
$inside = qr/($inside)/;

my $leaks = 0;
find(sub {
    return unless -f $_;
    return if /\.[oa]\z/;
    open my $fh, '<', $_ or die "$File::Find::name: $!\n";
    binmode $fh;
    read $fh, my $head, 4;
    return if defined $head && $head eq "\x7fELF";
    seek $fh, 0, 0;
    my ($prev, $n) = (0, 0);
    while (my $line = <$fh>) {
        $n++;
        my $t = norm($line);
        next if length($t) < 21;
        my $g = exists $region{$t} && !$idiom{$t} ? $region{$t} : 0;
        if ($g && (length($t) >= 40 || $g == $prev)) {
            print "$File::Find::name:$n: $t\n";
            $leaks++;
        } elsif (!$g && length($t) > 60 && $t =~ $inside) {
            print "$File::Find::name:$n: ... $1 ...\n";
            $leaks++;
            $g = 0;
        }
        $prev = $g;
    }
}, $dir);
exit($leaks ? 1 : 0);
