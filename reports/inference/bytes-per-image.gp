# Drawn by scripts/plot-inference.py; render with: gnuplot bytes-per-image.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'bytes-per-image.svg'
set title 'Encrypted bytes per image' noenhanced
set xlabel 'images in the run' noenhanced
set ylabel 'KiB per image' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set logscale x 2
set format x '%.0f'
set logscale y 10
plot 'bytes-per-image.dat' index 0 using 1:2 with linespoints lw 2 pt 1 lc rgb '#1f77b4' dt 1 title 'BFV upload', \
     'bytes-per-image.dat' index 1 using 1:2 with linespoints lw 2 pt 2 lc rgb '#d62728' dt 1 title 'BFV download', \
     'bytes-per-image.dat' index 2 using 1:2 with linespoints lw 2 pt 3 lc rgb '#2ca02c' dt 1 title 'CKKS upload', \
     'bytes-per-image.dat' index 3 using 1:2 with linespoints lw 2 pt 4 lc rgb '#ff7f0e' dt 1 title 'CKKS download', \
     'bytes-per-image.dat' index 4 using 1:2 with linespoints lw 2 pt 5 lc rgb '#9467bd' dt 1 title 'single mode upload', \
     'bytes-per-image.dat' index 5 using 1:2 with linespoints lw 2 pt 6 lc rgb '#8c564b' dt 1 title 'single mode download'
