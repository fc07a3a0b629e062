# Sourced by the bench scripts: a clickhouse-server of the bench's own on 127.0.0.1, with its
# data under $1 (removed with the bench's work directory).
#   start_clickhouse DIR HTTP_PORT TCP_PORT   sets CH_PID and CH_HTTP; false when it does not start
#   stop_clickhouse
#   ch SQL                                   the answer of one statement
CH_PID=""
CH_HTTP=""
ch() { curl -sS "http://127.0.0.1:$CH_HTTP/" --data-binary "$1"; }
start_clickhouse() {
  local d=$1
  CH_HTTP=$2
  mkdir -p "$d/data"
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex><logger><level>warning</level><log>$d/server.log</log><errorlog>$d/err.log</errorlog></logger>
<http_port>$2</http_port><tcp_port>$3</tcp_port><listen_host>127.0.0.1</listen_host>
<path>$d/data/</path><tmp_path>$d/tmp/</tmp_path><user_files_path>$d/uf/</user_files_path>
<format_schema_path>$d/fs/</format_schema_path><users_config>$d/users.xml</users_config>
<default_profile>default</default_profile><default_database>default</default_database>
<timezone>UTC</timezone><mlock_executable>false</mlock_executable>
<mark_cache_size>268435456</mark_cache_size></yandex>
EOF
  cat >"$d/users.xml" <<EOF
<?xml version="1.0"?>
<yandex><profiles><default></default></profiles><users><default><password></password>
<networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default></default></quotas></yandex>
EOF
  setsid clickhouse-server --config-file="$d/config.xml" >/dev/null 2>&1 &
  CH_PID=$!
  for _ in $(seq 100); do
    [[ $(curl -s "http://127.0.0.1:$CH_HTTP/ping") == Ok. ]] && return 0
    sleep 0.1
  done
  echo "bench: clickhouse-server did not start (see $d/err.log)" >&2
  return 1
}
stop_clickhouse() {
  [[ -z $CH_PID ]] && return 0
  kill -KILL -- "-$CH_PID" 2>/dev/null || true
  wait "$CH_PID" 2>/dev/null || true
  CH_PID=""
}
