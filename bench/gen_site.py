#!/usr/bin/python3
"""gen_site.py ROOT ORIGIN [PAGES [SEED]] -- a static site for the crawl bench.

PAGES HTML pages (default 20 000) of about 6 KB with about 25 links each, deterministic
for a SEED. 95 % are public, under /secNN/subM/pageK.html plus /index.html (page 0);
5 % are under /private/, linked from public pages but disallowed by /robots.txt.
Links come in mixed forms: relative to the page's directory, ./, ../../, root-relative,
absolute (ORIGIN, e.g. http://127.0.0.1:8080), scheme-relative, with #fragments, and
about a tenth of the pages carry a <base href> naming another directory, their relative
links written against it. Page k links pages 4k+1..4k+4 (a tree), so every public page
is reachable from index.html; the other links point at random pages.

Writes ROOT/public.txt and ROOT/private.txt: the paths of the pages, one per line."""
import os
import random
import sys

root, origin = sys.argv[1], sys.argv[2].rstrip('/')
npages = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 9)
nprivate = npages // 20
npublic = npages - nprivate
scheme_rel = '//' + origin.split('://', 1)[1]

WORDS = ('the crawler fetches pages and follows links between them while respecting '
         'robots rules of each site with care for its servers so far caf\u00e9 &amp; '
         'a an to in on by at for from with about').split()


def public_dir(k):
    return '/' if k == 0 else '/sec%02d/sub%d/' % (k % 40, (k // 40) % 8)


def public_path(k):
    return '/index.html' if k == 0 else '%spage%d.html' % (public_dir(k), k)


def private_path(i):
    return '/private/p%d.html' % i


def relative(base_dir, path):
    """path written relative to base_dir (both absolute, directories end in /)."""
    b = base_dir.strip('/').split('/') if base_dir != '/' else []
    p = path.strip('/').split('/')
    common = 0
    while common < len(b) and common < len(p) - 1 and b[common] == p[common]:
        common += 1
    up = len(b) - common
    rest = '/'.join(p[common:])
    if up == 0:
        return rest if rng.random() < 0.6 else './' + rest
    return '../' * up + rest


def href(base_dir, path):
    form = rng.random()
    frag = '#s%d' % rng.randrange(5) if rng.random() < 0.15 else ''
    if form < 0.35:
        h = relative(base_dir, path)
    elif form < 0.7:
        h = path
    elif form < 0.9:
        h = origin + path
    else:
        h = scheme_rel + path
    return h + frag


def text(n):
    return ' '.join(rng.choices(WORDS, k=n))


def page(k, path, links):
    own_dir = path.rsplit('/', 1)[0] + '/'
    base = None
    if rng.random() < 0.1:
        base = public_dir(rng.randrange(1, npublic))
    base_dir = base or own_dir
    out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n',
           '<title>Page %d</title>\n' % k]
    if base:
        out.append('<base href="%s">\n' % base)
    out.append('<meta name="viewport" content="width=device-width">\n</head><body>\n')
    out.append('<h1 id="s0">Page %d</h1>\n' % k)
    per_par = max(1, len(links) // 6)
    for i in range(0, len(links), per_par):
        out.append('<p id="s%d">%s\n' % (i // per_par % 5, text(rng.randrange(70, 110))))
        for target in links[i:i + per_par]:
            out.append('<a href="%s">%s</a> %s\n' % (href(base_dir, target), text(2), text(rng.randrange(4, 10))))
        out.append('</p>\n')
    # "#s0" would resolve against the <base>, another document: based pages name themselves.
    top = path + '#s0' if base else '#s0'
    out.append('<p><a href="%s">top</a> <a href="mailto:web@example.invalid">mail</a></p>\n' % top)
    out.append('</body></html>\n')
    return ''.join(out)


def write(path, body):
    full = root + path
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w', encoding='utf-8') as f:
        f.write(body)


# Each private page is linked from one public page at least.
private_links = {}
for i in range(nprivate):
    private_links.setdefault(rng.randrange(npublic), []).append(private_path(i))

for k in range(npublic):
    links = [public_path(c) for c in range(4 * k + 1, 4 * k + 5) if c < npublic]
    links += private_links.get(k, [])
    while len(links) < rng.randrange(22, 29):
        if rng.random() < 0.03:
            links.append(private_path(rng.randrange(nprivate)))
        else:
            links.append(public_path(rng.randrange(npublic)))
    rng.shuffle(links)
    write(public_path(k), page(k, public_path(k), links))
for i in range(nprivate):
    links = [public_path(rng.randrange(npublic)) for _ in range(25)]
    write(private_path(i), page(npublic + i, private_path(i), links))

write('/robots.txt', 'User-agent: *\nDisallow: /private/\n')
with open(os.path.join(root, 'public.txt'), 'w') as f:
    f.writelines(public_path(k) + '\n' for k in range(npublic))
with open(os.path.join(root, 'private.txt'), 'w') as f:
    f.writelines(private_path(i) + '\n' for i in range(nprivate))
