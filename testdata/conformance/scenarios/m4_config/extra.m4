
hostgroup db d1

watch db
    service pg
        interval 1h
        monitor seq.monitor pg
