#!/usr/bin/python3
"""scrapy_crawl.py URL [CONCURRENCY [SECONDS]] -- the Scrapy peer of the crawl bench: a minimal
CrawlSpider from URL over its host, every link followed (LinkExtractor), robots.txt
obeyed, no items and no output pipeline; closed after SECONDS (0, the default: when
done) through CLOSESPIDER_TIMEOUT. Prints {"pages": N, "responses": N} on stdout."""
import json
import logging
import sys
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

url = sys.argv[1]
conc = int(sys.argv[2]) if len(sys.argv) > 2 else 50
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 0
result = {}


class Site(CrawlSpider):
    name = 'bench'
    allowed_domains = [urlsplit(url).hostname]
    start_urls = [url]
    rules = (Rule(LinkExtractor(), callback='page', follow=True),)
    pages = 0

    def parse_start_url(self, response, **kwargs):
        return self.page(response)

    def page(self, response):
        self.pages += 1
        return []

    def closed(self, reason):
        stats = self.crawler.stats
        result.update(pages=self.pages, responses=stats.get_value('response_received_count', 0),
                      reason=reason)


process = CrawlerProcess(settings={
    'CONCURRENT_REQUESTS': conc,
    'CONCURRENT_REQUESTS_PER_DOMAIN': conc,
    'CONCURRENT_REQUESTS_PER_IP': 0,
    'ROBOTSTXT_OBEY': True,
    'DOWNLOAD_DELAY': 0,
    'AUTOTHROTTLE_ENABLED': False,
    'TELNETCONSOLE_ENABLED': False,
    'CLOSESPIDER_TIMEOUT': seconds,
    'LOG_LEVEL': 'ERROR',
    'REQUEST_FINGERPRINTER_IMPLEMENTATION': '2.7',
})
logging.getLogger('scrapy').setLevel(logging.ERROR)
process.crawl(Site)
process.start()
print(json.dumps(result))
