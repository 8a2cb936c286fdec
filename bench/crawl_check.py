#!/usr/bin/python3
"""crawl_check.py SITE ACCESSLOG [JSONL] -- what one crawler fetched from the bench site.

ACCESSLOG holds nginx's "STATUS METHOD URI" lines of that crawler's run; SITE is the
directory gen_site.py wrote (public.txt, private.txt). With JSONL (acrawl -j records)
the records are checked too. Prints one JSON object of counts."""
import json
import sys

site, log = sys.argv[1], sys.argv[2]
public = set(open(site + '/public.txt').read().split())
private = set(open(site + '/private.txt').read().split())

seen = {}
requests = other = 0
for line in open(log):
    parts = line.split()
    if len(parts) != 3:
        continue
    status, method, uri = parts
    requests += 1
    if uri == '/robots.txt':
        continue
    if method == 'GET' and status == '200' and (uri in public or uri in private):
        seen[uri] = seen.get(uri, 0) + 1
    else:
        other += 1
out = {
    'requests': requests,
    'page_fetches': sum(seen.values()),
    'unique_pages': len(seen),
    'refetches': sum(n - 1 for n in seen.values()),
    'public_missing': len(public - seen.keys()),
    'disallowed_fetched': sum(1 for u in seen if u in private),
    'other_requests': other,
}
if len(sys.argv) > 3:
    urls = {}
    bad = 0
    for line in open(sys.argv[3]):
        r = json.loads(line)
        path = '/' + r['url'].split('://', 1)[1].split('/', 1)[1]
        urls[path] = urls.get(path, 0) + 1
        bad += r.get('status') != 200
    out['records'] = {
        'n': sum(urls.values()),
        'duplicates': sum(n - 1 for n in urls.values()),
        'public_missing': len(public - urls.keys()),
        'disallowed': sum(1 for u in urls if u in private),
        'not_pages': sum(1 for u in urls if u not in public and u not in private),
        'non_200': bad,
    }
    out['every_page_once'] = (out['records']['n'] == len(public) and not out['records']['duplicates']
                              and not out['records']['public_missing'] and not out['records']['disallowed']
                              and out['unique_pages'] == len(public) and not out['refetches']
                              and not out['disallowed_fetched'])
print(json.dumps(out))
