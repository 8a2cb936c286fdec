#!/usr/bin/env bash
# nginx.sh start DIR CERTDIR [ROOT] | stop DIR -- Debian's nginx with a config of our
# own, listening on 127.0.0.1 only (plain and TLS), one worker pinned to CPU 1.
# Routes: /ok (2 bytes), /delay?s=SECONDS (echo module's echo_sleep); with ROOT, every
# other path is a static file under ROOT, logged as "STATUS METHOD URI" to DIR/access.log.
# Prints "PORT TLSPORT".
set -eu
cmd=$1 dir=$2
case $cmd in
start)
  certs=$(cd "$3" && pwd)
  static=""
  if [ -n "${4:-}" ]; then
    static="root $(cd "$4" && pwd);
    location / { types { text/html html; text/plain txt; } access_log $dir/access.log crawl; }"
  fi
  mkdir -p "$dir"
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  tport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  mod=/usr/lib/nginx/modules/ngx_http_echo_module.so
  cat > "$dir/nginx.conf" <<CONF
load_module $mod;
worker_processes 1;
worker_cpu_affinity 10;
worker_rlimit_nofile 40000;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 30000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  log_format crawl '\$status \$request_method \$request_uri';
  open_file_cache max=50000 inactive=60s;
  server {
    listen 127.0.0.1:$port backlog=65535;
    listen 127.0.0.1:$tport ssl backlog=65535;
    ssl_certificate $certs/good.pem;
    ssl_certificate_key $certs/good.key;
    location = /ok { return 200 "ok"; }
    location = /delay { echo_sleep \$arg_s; echo ok; }
    $static
  }
}
CONF
  mkdir -p "$dir/tmp"
  nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
  for _ in $(seq 50); do
    curl -s "http://127.0.0.1:$port/ok" >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "$port $tport"
  ;;
stop)
  [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  sleep 0.2
  ;;
esac
