from intercom_sync.cli import main

main()
