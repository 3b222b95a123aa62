# Drawn by scripts/plot-inference.py; render with: gnuplot latency.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'latency.svg'
set title 'Single-image mode: server latency per request (50 images)' noenhanced
set xlabel 'seconds per request' noenhanced
set ylabel 'requests' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set style fill solid 0.7 border -1
set boxwidth 0.0007651458000509592
set yrange [0:*]
set key off
set arrow from 0.04736106500058668,graph 0 to 0.04736106500058668,graph 1 nohead front lc rgb '#d62728' lw 2 dt 2
set label 'median 0.0474 s' at 0.04736106500058668,graph 0.95 offset 1,0 tc rgb '#d62728'
plot 'latency.dat' using 1:2 with boxes lc rgb '#1f77b4'
